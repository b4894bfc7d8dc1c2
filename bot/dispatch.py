"""One callback, one transaction: record and de-duplicate, route, map domain errors to replies."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import JSON, bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workflows.core import access, audit, people, stages
from workflows.core.errors import DomainError
from workflows.core.models import MEMBER_ID_MAX, InboundCallback
from workflows.core.base import UTCDateTime
from workflows.core.settings import Settings

from .router import Context, Router
from .wecom.inbound import Inbound

log = logging.getLogger(__name__)
# Plain SQL (SQLite ≥ 3.35 and PostgreSQL): unlike a dialect insert with on_conflict, a text()
# statement is compiled once and cached, which matters on the path every callback takes.
_INSERT_IGNORING_DUPLICATES = text(
    "INSERT INTO inbound_callback (dedupe_key, userid, kind, payload, received_at, status, error) "
    "VALUES (:dedupe_key, :userid, :kind, :payload, :received_at, :status, :error) "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
).bindparams(bindparam("payload", type_=JSON()), bindparam("received_at", type_=UTCDateTime()))


def _word(inbound: Inbound) -> str:
    """The chat word a member typed (for "您之前发送的 `申报`…"), or '' for clicks and files."""
    content = getattr(inbound, "content", None)
    return content.strip().split(" ", 1)[0][:20] if isinstance(content, str) and content.strip() else ""


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
        payload = inbound.as_record()
        if self.router.is_private(inbound) and "SelectedItems" in payload:
            # Redacted before it is stored, whatever the handler then does (a crash included).
            payload["SelectedItems"] = "redacted"
        record = {"dedupe_key": inbound.dedupe_key[:300], "userid": inbound.userid[:MEMBER_ID_MAX], "kind": inbound.kind,
                  "payload": payload, "received_at": now, "status": "done"}
        failure: DomainError | Exception | None = None
        if inbound.userid in access.RESERVED_ACTORS:
            # The bot's own actor names are never a WeCom member's (WeCom ids start with a letter or digit,
            # and the roster refuses them); a callback claiming one is recorded and does nothing.
            log.warning("callback from reserved userid %r ignored", inbound.userid)
            with self.sessions.begin() as s:
                audit.lock_first(s)
                return "refused" if self._record(s, {**record, "status": "refused"}) else "duplicate"
        try:
            with self.sessions.begin() as s:
                # The audit lock before any row lock (the callback's own row first of all): docs/reliability.md.
                audit.lock_first(s)
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
            audit.lock_first(s)
            if isinstance(failure, DomainError):
                if not self._record(s, record):
                    return "duplicate"
                if failure.code == "not_allowed":  # the gate refused: who tried what is kept
                    audit.record(s, actor=inbound.userid[:MEMBER_ID_MAX], action="access.refused", now=now,
                                 subject=str(failure.data.get("action", "")), role=failure.data.get("role"))
                if failure.wait_for:  # the reply promises a notice when that stage opens: keep the promise
                    stages.promise_notice(s, self.settings, failure.wait_for, inbound.userid[:64], now=now,
                                          word=_word(inbound))
                self._context(s, inbound, now).reply(f"errors.{failure.code}", **failure.data)
                return "refused"
            if not self._record(s, {**record, "status": "error",
                                    "error": f"{type(failure).__name__}: {failure}"[:2000]}):
                return "duplicate"
            self._context(s, inbound, now).reply("errors.internal")
        return "error"

    def _context(self, s: Session, inbound: Inbound, now: dt.datetime) -> Context:
        person, removed = people.standing(s, inbound.userid)
        return Context(session=s, settings=self.settings, now=now, userid=inbound.userid,
                       person=person, removed=removed, services=self.services)

    @staticmethod
    def _record(s: Session, record: dict[str, Any]) -> bool:
        """Insert the callback record; False if its dedupe key was already there (a retry)."""
        if s.get_bind().dialect.name in ("sqlite", "postgresql"):
            params = {"error": None, **record}
            return s.connection().execute(_INSERT_IGNORING_DUPLICATES, params).first() is not None
        try:
            with s.begin_nested():
                s.add(InboundCallback(**record))
            return True
        except IntegrityError:
            return False
