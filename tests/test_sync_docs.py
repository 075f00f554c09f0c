"""Every registered mutation is documented in docs/sync.md."""

from __future__ import annotations

import re
from pathlib import Path

from sync.catalogue import load

DOCS = Path(__file__).resolve().parent.parent / "docs" / "sync.md"


def test_every_registered_mutation_is_documented() -> None:
    documented = set(re.findall(r"^### `([a-z_.]+)`", DOCS.read_text(), flags=re.MULTILINE))
    registered = set(load())
    assert registered - documented == set(), "undocumented mutations"
    assert documented - registered == set(), "documented mutations that do not exist"
