"""Typed domain errors; the bot renders each `code` with one template."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule said no; nothing was changed. `code` names the template, `data` fills it."""

    code = "domain_error"

    def __init__(self, code: str | None = None, **data: Any) -> None:
        self.code = code or self.code
        self.data = data
        super().__init__(f"{self.code}: {data}")


class NotAllowed(DomainError):
    """The actor's role may not do this."""

    code = "not_allowed"


class StageNotOpen(DomainError):
    """The stage has not been opened yet."""

    code = "stage_not_open"


class StageClosed(DomainError):
    """The deadline has passed."""

    code = "stage_closed"


class NotFound(DomainError):
    """No such thing (or not visible to this actor)."""

    code = "not_found"


class AlreadyDone(DomainError):
    """The action was already taken and cannot be repeated."""

    code = "already_done"


class InvalidInput(DomainError):
    """The input does not satisfy a rule; `code` says which."""

    code = "invalid_input"
