"""Records made on the phone get time-ordered ids (UUIDv7, RFC 9562; issue 23): rows written
together sit together in the server's indexes. Every browser test that records on the
phone pushes such ids, so the server's acceptance of them is tested there."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_ids_made_on_the_phone_are_uuidv7_in_the_order_they_were_made(module_page: Page) -> None:
    before = int(time.time() * 1000)
    made = module_page.evaluate(
        "async () => { const { uuid } = await import('/static/app/ui.js');"
        " const ids = []; for (let i = 0; i < 500; i++) ids.push(uuid()); return ids; }"
    )
    after = int(time.time() * 1000)
    ids = [uuid.UUID(text) for text in made]
    assert [str(u) for u in ids] == made  # canonical lower-case form
    assert {u.version for u in ids} == {7}
    assert {u.variant for u in ids} == {uuid.RFC_4122}
    stamps = [u.int >> 80 for u in ids]
    assert all(before - 1000 <= ms <= after + 1000 for ms in stamps), (before, stamps[:3], after)
    assert stamps == sorted(stamps)
    assert len(set(made)) == len(made)
