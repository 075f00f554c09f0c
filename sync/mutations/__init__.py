"""Catalogue entries, one module per domain; importing this package registers them all."""

from sync.mutations import (
    assisted,
    conflicts,
    demands,
    households,
    notices,
    residents,
    topics,
    travel_cards,
    visits,
)

__all__ = [
    "assisted",
    "conflicts",
    "demands",
    "households",
    "notices",
    "residents",
    "topics",
    "travel_cards",
    "visits",
]
