"""Lighthouse on the field app (/app/), signed in, with a full grid on the phone.

    .venv/bin/python bench/lighthouse_bench.py [--runs N]

Debian's Chromium is started with a DevTools port; a worker signs in through the app and
waits until the grid is on the phone, then npm's `lighthouse` (package.json) audits
/app/ in that browser with its storage kept (so it sees the signed-in app), as a phone:
Lighthouse's mobile emulation, simulated slow 4G and 4× CPU. Prints the scores (median
of the runs), never asserts: the targets (≥ 95) are in docs/performance.md.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from field_bench import LAUNCH, sign_in
from sync_bench import ROOT, Server, free_port, fresh_database, seed_grid

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices"]


def audit(url: str, port: int, report: Path) -> dict[str, object]:
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            f"--port={port}",
            "--disable-storage-reset",
            f"--only-categories={','.join(CATEGORIES)}",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
        ],
        check=True,
    )
    result: dict[str, object] = json.loads(report.read_text())
    return result


def main() -> None:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    scores: dict[str, list[float]] = {name: [] for name in CATEGORIES}
    failing: set[str] = set()
    seen: list[str] = []  # the largest paint of each run: the signed-in list, not the login form
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = fresh_database(None, folder)
        seed_grid(db)
        db.dispose()
        server = Server(f"sqlite:///{folder / 'bench.sqlite3'}", folder)
        port = free_port()
        try:
            with sync_playwright() as p:
                context = p.chromium.launch_persistent_context(
                    str(folder / "profile"),
                    executable_path="/usr/bin/chromium",
                    headless=True,
                    args=[*LAUNCH, f"--remote-debugging-port={port}"],
                    viewport={"width": 360, "height": 740},
                    locale="zh-CN",
                )
                page = context.new_page()
                sign_in(page, server.url)
                for n in range(runs):
                    result = audit(server.url + "/app/", port, folder / f"report-{n}.json")
                    categories = result["categories"]
                    assert isinstance(categories, dict)
                    lcp = result["audits"]["largest-contentful-paint-element"]  # type: ignore[index]
                    tables = lcp.get("details", {}).get("items", [])
                    rows = tables[0].get("items", []) if tables else []
                    seen.append(rows[0]["node"].get("selector", "?") if rows else "-")
                    for name in CATEGORIES:
                        scores[name].append(100 * float(categories[name]["score"]))
                    audits = result["audits"]
                    assert isinstance(audits, dict)
                    bfcache = audits.get("bf-cache", {}).get("details", {}).get("items", [])
                    failing |= {f"bf-cache: {item.get('reason')}" for item in bfcache}
                    failing |= {
                        f"{key}: {a['title']}"
                        for key, a in audits.items()
                        if a.get("score") is not None
                        and a["score"] < 0.9
                        and a.get("scoreDisplayMode") == "binary"
                    }
                context.close()
        finally:
            server.stop()
    print(
        f"\n== Lighthouse {lighthouse_version()} on /app/, signed in, mobile (slow 4G, 4× CPU), {runs} runs =="
    )
    for name in CATEGORIES:
        print(
            f"{name}: median {statistics.median(scores[name]):.0f} (runs: {', '.join(f'{s:.0f}' for s in scores[name])})   (target ≥ 95)"
        )
    print(f"largest contentful paint: {seen[-1] if seen else '-'}")
    for line in sorted(failing):
        print(f"  failed: {line}")


def lighthouse_version() -> str:
    return subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    main()
