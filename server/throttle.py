"""Sign-in throttling: growing waits after failed sign-ins, per (account, address) and per address.

Only failures count, so fifty workers signing in behind one office address all get in, and
a stranger's wrong passwords slow down the stranger's address, never the owner elsewhere.
After a rule's free failures within its window, each further failure doubles the wait
(2, 4, 8 … seconds, at most 15 minutes) counted from the last one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from server import ratelimit
from server.clock import aware
from server.models import utcnow

MAX_WAIT = 15 * 60


@dataclass(frozen=True)
class Rule:
    prefix: str
    free: int  # failures within `window` before any wait
    window: timedelta
    per_account: bool

    def key(self, username: str, ip: str) -> str:
        return f"{self.prefix}{ip}:{username.lower()}" if self.per_account else f"{self.prefix}{ip}"


ACCOUNT_AT_ADDRESS = Rule("login-fail:", free=5, window=timedelta(days=1), per_account=True)
# An office's typos over an hour stay below this; a password sprayer's do not.
ADDRESS = Rule("login-fail-ip:", free=30, window=timedelta(hours=1), per_account=False)
RULES = (ACCOUNT_AT_ADDRESS, ADDRESS)


def delay(failures: int, free: int) -> int:
    """Seconds to wait after the last of `failures`."""
    return 0 if failures < free else min(2 ** (failures - free + 1), MAX_WAIT)


def wait(session: Session, username: str, ip: str, *, now: datetime | None = None) -> int:
    """Seconds before this account may try again from this address; 0 for now."""
    now = now or utcnow()
    longest = 0
    for rule in RULES:
        failures, last = ratelimit.since(session, rule.key(username, ip), now - rule.window)
        seconds = delay(failures, rule.free)
        if last is not None and seconds:
            # +1: failures are counted in whole seconds, the last one may be late in its second
            until = aware(last) + timedelta(seconds=seconds + 1)
            longest = max(longest, math.ceil((until - now).total_seconds()) if until > now else 0)
    return longest


def failed(session: Session, username: str, ip: str, *, now: datetime | None = None) -> None:
    for rule in RULES:
        ratelimit.add(session, rule.key(username, ip), seconds=1, now=now)


def succeeded(session: Session, username: str, ip: str) -> None:
    """The owner got in from here: their earlier typos here are forgiven (the address's are not)."""
    ratelimit.forget(session, ACCOUNT_AT_ADDRESS.key(username, ip))
