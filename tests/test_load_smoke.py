"""The load suite end to end, small: a few phones for a few seconds with every fault on.

bench/load.py runs as a subprocess (it starts its own server on SQLite and
its own faults); the test reads the figures it writes and asserts what the
suite promises: nothing lost, nothing duplicated, every phone converged —
and that the faults really happened, so the run proved something.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_short_faulty_morning_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    figures_path = tmp_path / "figures.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            "--phones=6",
            "--duration=12",
            "--arrival=1",
            "--think=1",
            "--households=12",
            "--residents=30",
            "--visits=10",
            "--demands=4",
            "--photo-rate=0.3",
            "--bad-rate=0.05",
            "--drop=0.3",
            "--kill-every=4",
            "--slow=0.5",
            f"--json={figures_path}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert figures_path.exists(), run.stdout + run.stderr
    figures = json.loads(figures_path.read_text())
    checked = figures["verification"]
    assert run.returncode == 0, run.stdout + run.stderr

    assert checked["expected"] > 50
    assert checked["found"] == checked["expected"]
    assert checked["lost"] == 0
    assert checked["duplicated"] == 0
    assert checked["rejected_expected"] > 0
    assert checked["rejected_found"] == checked["rejected_expected"]
    assert checked["rejected_with_effects"] == 0
    assert checked["photos_lost"] == 0 and checked["photos_found"] == checked["photos_expected"] > 0
    assert checked["phones"] == 6 and checked["unconverged"] == 0
    assert checked["unresolved"] == 0 and checked["tables_off"] == 0 and checked["unexpected_rows"] == 0

    faults = figures["faults"]
    assert faults["kills"] >= 1
    assert faults["responses_dropped"] >= 1
    assert faults["slow_phones"] >= 1
    assert figures["throughput"]["replayed_results"] >= 1  # a cut response came back as a replay
    assert "RESULT: ok" in run.stdout
