"""Placeholder: filled in by the admin pages work."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
