"""Which grid a request should go to (地域临近): the household's grid, else the nearest grid
centre, else the grid whose households live in the estate the request names."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, col, select

from server.models import (
    Demand,
    Grid,
    Household,
)


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Suggestion:
    grid: Grid
    why: str  # household | nearest | estate


class GridSuggester:
    """Suggests the grid for a request of one community: the household's grid; else the grid
    whose centre is nearest to where the request is; else the grid most of whose households
    live in an estate the request names."""

    def __init__(self, session: Session, community_id: uuid.UUID) -> None:
        self.grids = {
            g.id: g
            for g in session.exec(
                select(Grid).where(Grid.community_id == community_id, col(Grid.deleted_at).is_(None))
            )
        }
        counts: Counter[tuple[str, uuid.UUID]] = Counter()
        rows = session.exec(
            select(Household.estate, Household.grid_id).where(
                Household.community_id == community_id, col(Household.deleted_at).is_(None)
            )
        )
        for estate, grid_id in rows:
            if estate and len(estate) >= 2:
                counts[(estate, grid_id)] += 1
        best: dict[str, tuple[int, uuid.UUID]] = {}
        for (estate, grid_id), n in counts.items():
            if n > best.get(estate, (0, grid_id))[0]:
                best[estate] = (n, grid_id)
        # Longest names first, so "幸福小区二期" wins over "幸福小区".
        self.estates = sorted(((e, g) for e, (_n, g) in best.items()), key=lambda eg: -len(eg[0]))
        self.session = session

    def suggest(self, demand: Demand) -> Suggestion | None:
        household = self.session.get(Household, demand.household_id) if demand.household_id else None
        if household is not None and household.grid_id in self.grids:
            return Suggestion(self.grids[household.grid_id], "household")
        lat = demand.lat if demand.lat is not None else (household.lat if household else None)
        lng = demand.lng if demand.lng is not None else (household.lng if household else None)
        if lat is not None and lng is not None:
            centred = [g for g in self.grids.values() if g.lat is not None and g.lng is not None]
            if centred:
                nearest = min(centred, key=lambda g: haversine_km(lat, lng, g.lat or 0.0, g.lng or 0.0))
                return Suggestion(nearest, "nearest")
        text = f"{demand.address} {demand.description}"
        for estate, grid_id in self.estates:
            if estate in text and grid_id in self.grids:
                return Suggestion(self.grids[grid_id], "estate")
        return None


def suggest_grid(session: Session, demand: Demand) -> Suggestion | None:
    return GridSuggester(session, demand.community_id).suggest(demand)
