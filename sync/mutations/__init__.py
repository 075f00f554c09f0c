"""Catalogue entries, one module per domain; importing this package registers them all."""

from sync.mutations import conflicts, demands, households, residents, topics, travel_cards, visits

__all__ = ["conflicts", "demands", "households", "residents", "topics", "travel_cards", "visits"]
