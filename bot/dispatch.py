"""One callback, one transaction: record and de-duplicate, route, map domain errors to replies."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workflows import people
from workflows.errors import DomainError
from workflows.model import InboundCallback
from workflows.settings import Settings

from .router import Context, Router
from .wecom.inbound import Inbound

log = logging.getLogger(__name__)


class Dispatcher:
    """Runs a parsed callback through the router exactly once."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, router: Router,
                 services: dict[str, Any] | None = None) -> None:
        self.sessions = sessions
        self.settings = settings
        self.router = router
        self.services = services or {}

    def handle(self, inbound: Inbound, now: dt.datetime) -> str:
        """Record, de-duplicate and route; return 'done', 'duplicate' or 'error'."""
        with self.sessions.begin() as s:
            record = InboundCallback(dedupe_key=inbound.dedupe_key[:300], userid=inbound.userid[:64],
                                     kind=inbound.kind, payload=inbound.as_record(), received_at=now, status="done")
            try:
                with s.begin_nested():
                    s.add(record)
            except IntegrityError:
                return "duplicate"
            ctx = Context(session=s, settings=self.settings, now=now, userid=inbound.userid,
                          person=people.get(s, inbound.userid), services=self.services)
            try:
                with s.begin_nested():
                    self.router.route(ctx, inbound)
            except DomainError as exc:
                # The savepoint rolled the handler's changes back; only the explanation goes out.
                ctx.reply(f"errors.{exc.code}", **exc.data)
            except Exception as exc:
                log.exception("handler failed for %s", inbound.dedupe_key)
                record.status, record.error = "error", f"{type(exc).__name__}: {exc}"[:2000]
                ctx.reply("errors.internal")
                return "error"
        return "done"


def run_in_transaction(sessions: sessionmaker[Session], fn: Callable[[Session], Any]) -> Any:
    """Run fn(session) in one transaction (CLI commands and jobs)."""
    with sessions.begin() as s:
        return fn(s)
