"""Secrets sent in URLs (Open311's `?api_key=`) kept out of the audit log and the access log."""

from __future__ import annotations

import logging
import re

SECRET_PARAMS = ("api_key",)
_SECRET = re.compile(r"(?<![^?&])(" + "|".join(SECRET_PARAMS) + r")=[^&#\s]*", re.IGNORECASE)
REDACTED = "REDACTED"


def redact(text: str) -> str:
    """A URL or query string with the value of every secret parameter replaced."""
    return _SECRET.sub(rf"\1={REDACTED}", text)


class AccessLogRedaction(logging.Filter):
    """For uvicorn's access log, whose record args are (client, method, path+query, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def redact_access_log() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogRedaction) for f in logger.filters):
        logger.addFilter(AccessLogRedaction())
