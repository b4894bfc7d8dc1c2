"""Hand-offs between stages: an earlier stage announces what happened, a later stage acts on it.

A stage package never imports a later one (the import graph follows the award's order). When an
earlier stage must set a later one going (an endorsed application opens its formal review), it
announces an event here; `workflows.edition` subscribes the later stage's handler. Handlers run in
the announcer's transaction, so the hand-off commits or rolls back with the decision that caused it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from sqlalchemy.orm import Session

from workflows.core.settings import Settings

# Every event a stage may announce: name -> what its data means.
EVENTS = {
    "application.endorsed": "application_id: the recommending unit endorsed it (推荐); the formal review may open",
    "stage.opened": "stage, reopened: a stage opened; tell who waited and who owes something, send what was held",
}


class Handler(Protocol):
    """A subscriber: acts on an event inside the announcer's transaction."""

    def __call__(self, session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                 **data: Any) -> None: ...


class NotWired(RuntimeError):
    """An event was announced before `workflows.edition` subscribed the stages' handlers."""


_handlers: dict[str, list[Handler]] = {}
_wired = False


def subscribe(event: str, handler: Handler) -> None:
    """Run `handler` whenever `event` is announced (called by workflows.edition only)."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    if handler not in _handlers.setdefault(event, []):
        _handlers[event].append(handler)


def mark_wired() -> None:
    """Record that every subscription is in place (the end of workflows.edition)."""
    global _wired
    _wired = True


def announce(session: Session, settings: Settings, event: str, *, actor: str, now: dt.datetime,
             **data: Any) -> None:
    """Tell the later stages that `event` happened; their handlers run now, in this transaction."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    if not _wired:
        raise NotWired("stage hand-offs are not wired: import workflows.edition first")
    for handler in _handlers.get(event, ()):
        handler(session, settings, actor=actor, now=now, **data)
