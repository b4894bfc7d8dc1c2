"""Typed domain errors; the bot renders each `code` with one template."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule said no; nothing was changed. `code` names the template, `data` fills it.

    `wait_for` names a stage when the reply promises "we will tell you when it starts": whoever receives
    the refusal (the dispatcher, a page) records the member on that stage's waiting list
    (`stages.promise_notice`), and the stage's opening tells them (`reminders.announce_opening`).
    """

    code = "domain_error"
    wait_for: str | None = None

    def __init__(self, code: str | None = None, *, wait_for: str | None = None, **data: Any) -> None:
        self.code = code or self.code
        self.data = data
        if wait_for is not None:
            self.wait_for = wait_for
        super().__init__(f"{self.code}: {data}")


class NotAllowed(DomainError):
    """The actor's role may not do this."""

    code = "not_allowed"


class StageNotOpen(DomainError):
    """The stage has not been opened yet (its reply promises a notice when it opens)."""

    code = "stage_not_open"

    def __init__(self, code: str | None = None, **data: Any) -> None:
        super().__init__(code, wait_for=data.get("stage"), **data)


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
