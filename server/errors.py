"""Refusals a domain command can give. Each carries the stable code sync rejections use
(SYNC.md rule 5) and a message for people, already in the caller's language."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "invalid_args"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(DomainError):
    """Arguments that fail validation; `errors` maps each field to its message."""

    code = "invalid_args"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("；".join(errors.values()), errors=errors)
        self.errors = errors


class InvalidTransition(DomainError):
    code = "invalid_transition"


class IdReused(DomainError):
    code = "id_reused"


class NotEligible(DomainError):
    code = "not_eligible"


class DuplicateApplication(DomainError):
    code = "duplicate_application"
