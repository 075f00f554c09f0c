"""The real server in a subprocess, for tests that need HTTP, processes and crashes.

`LiveServer.crash()` kills it with SIGKILL (no shutdown code runs, as in a
power cut); `start()` brings it back on the same port and database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerDidNotStart(RuntimeError):
    """The server exited or never answered /healthz; the message holds its log."""


@dataclass
class LiveServer:
    """`uvicorn server.app:create_app --factory` on 127.0.0.1:`port` with `env`."""

    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    cli: bool = False  # through `doorstep serve` (its uvicorn options), not bare uvicorn

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.cli:
            command = [sys.executable, "-m", "server.cli.main", "serve", "--log-level", "warning"]
        else:
            command = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_healthy()

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ServerDidNotStart(self.log())
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise ServerDidNotStart(f"no answer on /healthz within {timeout}s\n{self.log()}")

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), forced after 10 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def crash(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or an OOM kill."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self) -> None:
        """Crash and start again on the same port and database."""
        self.crash()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def serving(
    database_url: str, folder: Path, secret_key: str, *, cli: bool = False, **env: str
) -> Iterator[LiveServer]:
    """A started LiveServer on `database_url`, its data and log under `folder`, stopped after."""
    data_dir = folder / "server-data"
    data_dir.mkdir()
    environment = {
        **os.environ,
        "DOORSTEP_DATA_DIR": str(data_dir),
        "DOORSTEP_DATABASE_URL": database_url,
        "DOORSTEP_SECRET_KEY": secret_key,
        "DOORSTEP_RUN_JOBS": "0",
        **env,
    }
    server = LiveServer(port=free_port(), env=environment, log_path=folder / "server.log", cli=cli)
    server.start()
    try:
        yield server
    finally:
        server.stop()
