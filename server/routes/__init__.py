"""Every route of the app, gathered from the modules that own them."""

from __future__ import annotations

from starlette.routing import BaseRoute


def all_routes() -> list[BaseRoute]:
    from server.routes import (
        admin,
        assisted,
        auth,
        conflicts,
        coverage,
        demands,
        devices,
        field,
        guide,
        handovers,
        health,
        home,
        households,
        ledger,
        notices,
        open311,
        push,
        topics,
        travel_cards,
    )
    from server.routes import sync as sync_endpoints

    routes: list[BaseRoute] = []
    for module in (
        health,
        auth,
        home,
        field,
        households,
        ledger,
        travel_cards,
        demands,
        guide,
        assisted,
        topics,
        coverage,
        devices,
        open311,
        conflicts,
        notices,
        handovers,
        admin,
        push,
        sync_endpoints,
    ):
        routes.extend(module.routes)
    return routes
