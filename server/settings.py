"""Deployment settings, read from the environment once per process.

Domain settings that admins change at run time (age threshold, deadlines,
quiet hours) live in the database instead: see `server.preferences`.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from server.files import private_dir, private_file

DEFAULT_PUSH_HOSTS = (
    "https://fcm.googleapis.com",  # Chrome
    "https://updates.push.services.mozilla.com",  # Firefox
    "https://web.push.apple.com",  # Safari
    "https://*.notify.windows.com",  # Edge (wns2-<region>.notify.windows.com)
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    https: bool = False
    push_hosts: tuple[str, ...] = DEFAULT_PUSH_HOSTS
    push_subject: str = "mailto:it@doorstep.invalid"
    run_jobs: bool = True
    vapid_private_key: str | None = None
    public_url: str = ""  # where people reach the server, for links that leave it (QR codes, SMS)
    forwarded_allow_ips: str = ""  # proxies whose X-Forwarded-For is believed; none by default
    # The county gateway (docs/gateway.md): where notices are posted, the HMAC key, allowed origins.
    gateway_url: str = ""
    gateway_secret: str = ""
    gateway_hosts: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _secret_key(data_dir: Path) -> str:
    """Read the key kept in the data dir, creating it once (race-safe across processes)."""
    path = data_dir / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return private_file(path).read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = private_dir(Path(env.get("DOORSTEP_DATA_DIR", "./data")).resolve())
    database_url = env.get("DOORSTEP_DATABASE_URL") or f"sqlite:///{data_dir / 'doorstep.sqlite3'}"
    secret_key = env.get("DOORSTEP_SECRET_KEY") or _secret_key(data_dir)
    hosts = env.get("DOORSTEP_PUSH_HOSTS")
    push_hosts = (
        tuple(h.strip().rstrip("/") for h in hosts.split(",") if h.strip()) if hosts else DEFAULT_PUSH_HOSTS
    )
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret_key,
        https=env.get("DOORSTEP_HTTPS", "").lower() in ("1", "true", "yes"),
        push_hosts=push_hosts,
        push_subject=env.get("DOORSTEP_PUSH_SUBJECT", "mailto:it@doorstep.invalid"),
        run_jobs=env.get("DOORSTEP_RUN_JOBS", "1").lower() not in ("0", "false", "no"),
        vapid_private_key=env.get("DOORSTEP_VAPID_PRIVATE_KEY") or None,
        public_url=env.get("DOORSTEP_PUBLIC_URL", "").strip().rstrip("/"),
        forwarded_allow_ips=env.get("DOORSTEP_FORWARDED_ALLOW_IPS", "").strip(),
        gateway_url=env.get("DOORSTEP_GATEWAY_URL", "").strip(),
        gateway_secret=env.get("DOORSTEP_GATEWAY_SECRET", ""),
        gateway_hosts=tuple(
            h.strip().rstrip("/") for h in env.get("DOORSTEP_GATEWAY_HOSTS", "").split(",") if h.strip()
        ),
    )
