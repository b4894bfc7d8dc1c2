"""One callback, one transaction: record and de-duplicate, route, map domain errors to replies."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workflows import people
from workflows.errors import DomainError
from workflows.model import InboundCallback
from workflows.settings import Settings

from .router import Context, Router
from .wecom.inbound import Inbound

log = logging.getLogger(__name__)
# Built once so SQLAlchemy's compiled cache is reused for every callback.
_INSERT_IGNORING_DUPLICATES = {
    "sqlite": sqlite_insert(InboundCallback).on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(InboundCallback.id),
    "postgresql": pg_insert(InboundCallback).on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(InboundCallback.id),
}


class Dispatcher:
    """Runs a parsed callback through the router exactly once."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, router: Router,
                 services: dict[str, Any] | None = None) -> None:
        self.sessions = sessions
        self.settings = settings
        self.router = router
        self.services = services or {}

    def handle(self, inbound: Inbound, now: dt.datetime) -> str:
        """Record, de-duplicate and route; return 'done', 'duplicate', 'refused' or 'error'."""
        record = {"dedupe_key": inbound.dedupe_key[:300], "userid": inbound.userid[:64], "kind": inbound.kind,
                  "payload": inbound.as_record(), "received_at": now, "status": "done"}
        failure: DomainError | Exception | None = None
        try:
            with self.sessions.begin() as s:
                if not self._record(s, record):
                    return "duplicate"
                self.router.route(self._context(s, inbound, now), inbound)
            return "done"
        except DomainError as exc:
            failure = exc
        except Exception as exc:
            log.exception("handler failed for %s", inbound.dedupe_key)
            failure = exc
        # The handler's changes were rolled back; record the callback and explain, in a new transaction.
        with self.sessions.begin() as s:
            if isinstance(failure, DomainError):
                if not self._record(s, record):
                    return "duplicate"
                self._context(s, inbound, now).reply(f"errors.{failure.code}", **failure.data)
                return "refused"
            if not self._record(s, {**record, "status": "error",
                                    "error": f"{type(failure).__name__}: {failure}"[:2000]}):
                return "duplicate"
            self._context(s, inbound, now).reply("errors.internal")
        return "error"

    def _context(self, s: Session, inbound: Inbound, now: dt.datetime) -> Context:
        return Context(session=s, settings=self.settings, now=now, userid=inbound.userid,
                       person=people.get(s, inbound.userid), services=self.services)

    @staticmethod
    def _record(s: Session, record: dict[str, Any]) -> bool:
        """Insert the callback record; False if its dedupe key was already there (a retry)."""
        stmt = _INSERT_IGNORING_DUPLICATES.get(s.get_bind().dialect.name)
        if stmt is not None:
            return s.connection().execute(stmt, record).first() is not None
        try:
            with s.begin_nested():
                s.add(InboundCallback(**record))
            return True
        except IntegrityError:
            return False


def run_in_transaction(sessions: sessionmaker[Session], fn: Callable[[Session], Any]) -> Any:
    """Run fn(session) in one transaction (CLI commands and jobs)."""
    with sessions.begin() as s:
        return fn(s)
