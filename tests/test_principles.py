"""What Doorstep will not do (docs/principles.md, issue 17): the guards that keep it so."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent


def test_no_page_may_ask_the_browser_where_it_is(client: TestClient) -> None:
    """No location tracking: the browser itself refuses the position to every page, the field
    app's frame and the office alike."""
    for path in ("/app/", "/login"):
        response = client.get(path, follow_redirects=False)
        policy = response.headers["permissions-policy"]
        assert "geolocation=()" in policy, (path, policy)
        assert "camera=(self)" in policy  # photos at the door still work


def test_no_script_reads_the_position_or_counts_a_workers_presence() -> None:
    """No script of the app or the office reads the position, and none measures how long or how
    often a worker has the app open (online time, 打卡)."""
    forbidden = re.compile(
        r"geolocation|watchPosition|getCurrentPosition|online_time|onlineTime|clock_in|clockIn"
    )
    scripts = sorted(p for p in (ROOT / "static").rglob("*.js") if "vendor" not in p.parts)
    assert len(scripts) > 20  # the field app's modules are there to be read
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in scripts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if forbidden.search(line)
    ]
    assert found == []
