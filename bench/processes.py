"""`doorstep serve` (and `doorstep worker`) in subprocesses of their own process groups:
start, SIGKILL, restart, RSS and CPU."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def doorstep_command() -> list[str]:
    # `-m` from ROOT runs this tree's code; the installed `doorstep` script runs whichever tree
    # the package was installed from in editable mode (another worktree sharing the venv).
    return [sys.executable, "-m", "server.cli.main"]


class ServerDidNotStart(RuntimeError):
    pass


@dataclass
class ServerProcess:
    env: dict[str, str]
    log_path: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    early_exits: int = 0  # starts that ended before answering (the database was away)
    rss_max_kb: int = 0
    cpu_ticks: dict[int, int] = field(default_factory=dict)  # pid -> user+system clock ticks, last seen
    companions: list[JobsProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        """Start and wait for /healthz; an early exit is started again after 2 s, as systemd's
        `Restart=always` would (`doorstep serve` migrates first and exits while the database is away)."""
        deadline = time.monotonic() + timeout
        while True:
            self._spawn()
            if self._healthy(deadline):
                return
            if time.monotonic() >= deadline:
                raise ServerDidNotStart(self.log_path.read_text(errors="replace")[-4000:])
            self.early_exits += 1
            time.sleep(2.0)

    def _spawn(self) -> None:
        command = [
            *doorstep_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.starts += 1

    def _healthy(self, deadline: float) -> bool:
        """True once /healthz answers; False when the process exits first or time runs out."""
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        return False

    def kill(self) -> None:
        """SIGKILL to the whole group (the uvicorn supervisor and its workers): no shutdown code runs."""
        process, self.process = self.process, None
        if process is None:
            return
        self.sample_rss(process.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_group(process)

    def sample_rss(self, pgid: int | None = None) -> int:
        """VmRSS summed over the server's process group and its companions (a `doorstep worker`),
        in kB; the largest seen is kept."""
        if pgid is None:
            if self.process is None:
                return 0
            pgid = self.process.pid
        total = 0
        groups = [pgid, *(c.process.pid for c in self.companions if c.process is not None)]
        for group in groups:
            for pid, rss_kb, ticks in group_usage(group):
                total += rss_kb
                self.cpu_ticks[pid] = ticks
        self.rss_max_kb = max(self.rss_max_kb, total)
        return total

    @property
    def cpu_seconds(self) -> float:
        """CPU time of every server process seen so far (killed ones up to their last sample)."""
        return sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")


@dataclass
class JobsProcess:
    """`doorstep worker`: the periodic jobs apart from the app processes, as a city runs them."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*doorstep_command(), "worker"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM to the process's group, SIGKILL after 20 s."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def group_usage(pgid: int) -> list[tuple[int, int, int]]:
    """(pid, VmRSS in kB, user+system clock ticks) of every process in the group."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            rss = 0
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
            found.append((int(entry.name), rss, int(fields[11]) + int(fields[12])))
        except (OSError, ValueError, IndexError):
            continue
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)
