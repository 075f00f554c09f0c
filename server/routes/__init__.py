"""Every route of the app, gathered from the modules that own them."""

from __future__ import annotations

from starlette.routing import BaseRoute


def all_routes() -> list[BaseRoute]:
    from server.routes import (
        admin,
        auth,
        conflicts,
        coverage,
        demands,
        devices,
        field,
        handovers,
        health,
        home,
        households,
        ledger,
        open311,
        push,
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
        coverage,
        devices,
        open311,
        conflicts,
        handovers,
        admin,
        push,
        sync_endpoints,
    ):
        routes.extend(module.routes)
    return routes
