"""The routing worker: routes the callbacks the webhook recorded as pending, after it has answered WeCom.

`serve` acknowledges a callback once it is durably recorded (one insert, RELIABILITY 3's dedupe key) and
leaves routing (conversation, workflow, replies into the outbox) to this worker, so that a burst of callbacks
costs the webhook little more than verifying and decrypting them. What holds:

- **Exactly once.** A pending row is taken and settled in the transaction that routes it: a crash (of the
  worker, the process, the database connection) rolls both back and the row is routed again later; a row
  another worker has taken is skipped (PostgreSQL: `FOR UPDATE SKIP LOCKED` on the read, then a blocking lock
  and a re-check on the take).
- **Each member's order.** Only a member's oldest pending callback is ever a candidate; the next becomes one
  when the first is settled. A private card click (a ballot, never stored with its selection) is routed in
  its request after the member's earlier callbacks (`drain`).
- **Nothing lost.** Pending rows left by a stopped process are routed by the next worker that starts (its
  first pass), and every worker also looks every `poll_seconds` in case a wake-up was missed.
- **The queue moves.** A row that cannot be routed (unreadable, or failing even in the error path) is
  settled as an error, its member told if at all possible, and the rows behind it go on.
- **Judged when received.** A queued callback is routed with the time the webhook received it as `now`, so a
  message that arrived before a deadline is judged before it, however long the queue.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased, sessionmaker

from workflows.core.models import InboundCallback

from .dispatch import PENDING, Dispatcher
from .wecom.inbound import from_record

log = logging.getLogger(__name__)

_earlier = aliased(InboundCallback)
# Each member's oldest pending callback (the others wait behind it), oldest first.
_CANDIDATES = (select(InboundCallback.id, InboundCallback.dedupe_key, InboundCallback.userid,
                      InboundCallback.payload, InboundCallback.received_at)
               .where(InboundCallback.status == PENDING,
                      ~exists().where(and_(_earlier.userid == InboundCallback.userid, _earlier.status == PENDING,
                                           _earlier.id < InboundCallback.id)))
               .order_by(InboundCallback.id))


def backlog(session: Session, now: dt.datetime) -> dict[str, Any]:
    """How many callbacks wait to be routed and for how long the oldest has waited (for /healthz)."""
    count, oldest = session.execute(select(func.count(), func.min(InboundCallback.received_at))
                                    .where(InboundCallback.status == PENDING)).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.timezone.utc)
    return {"pending": count, "oldest_pending_seconds": (now - oldest).total_seconds() if oldest else None}


class RoutingWorker:
    """Routes pending callbacks through the dispatcher; one per process that serves the webhook."""

    def __init__(self, sessions: sessionmaker[Session], dispatcher: Dispatcher, *, batch_size: int = 50,
                 poll_seconds: float = 0.5, gather_seconds: float = 0.0, yield_seconds: float = 0.0) -> None:
        self.sessions = sessions
        self.dispatcher = dispatcher
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.gather_seconds = gather_seconds
        self.yield_seconds = yield_seconds
        self.event = threading.Event()
        self._requests = 0                      # webhook requests in progress in this process
        self._quiet = threading.Condition()

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Around a webhook request: the running worker lets it go first (see `run_forever`)."""
        with self._quiet:
            self._requests += 1
        try:
            yield
        finally:
            with self._quiet:
                self._requests -= 1
                if not self._requests:
                    self._quiet.notify_all()

    def _let_requests_go_first(self) -> None:
        """Wait until no webhook request is in progress here, at most `yield_seconds`: acknowledging WeCom
        within its deadline comes first, routing takes the gaps (and at least one callback per wait)."""
        with self._quiet:
            self._quiet.wait_for(lambda: not self._requests, timeout=self.yield_seconds)

    def wake(self) -> None:
        """A callback was recorded: route it now."""
        self.event.set()

    def _candidates(self, userid: str | None) -> list[Any]:
        query = _CANDIDATES.limit(self.batch_size)
        if userid is not None:
            query = query.where(InboundCallback.userid == userid)
        engine = self.dispatcher.engine
        if engine.dialect.name == "postgresql" and userid is None:
            # Rows another worker is routing now are skipped, not waited for (they are taken below).
            query = query.with_for_update(of=InboundCallback, skip_locked=True)
        with engine.begin() as conn:
            return list(conn.execute(query))

    def run_once(self, userid: str | None = None, *, polite: bool = False) -> int:
        """Route one batch of candidates, each in its own transaction; how many candidates there were (one
        another worker routed meanwhile is skipped). `polite`: each after the webhook's requests in progress."""
        candidates = self._candidates(userid)
        own_corp = self.dispatcher.settings.wecom.corp_id
        for _row_id, key, userid_, payload, received_at in candidates:
            if polite and self.yield_seconds:
                self._let_requests_go_first()
            try:
                inbound = from_record(payload, own_corp)
                self.dispatcher.route(inbound, received_at, {"dedupe_key": key}, recorded=True)
            except Exception as exc:
                # A damaged row, or a failure the error path itself could not settle (its reply, say): the row
                # is settled as an error and its member told, so the queue behind it goes on. A lost database
                # connection is not the row's fault: it stays pending and the loop retries later.
                if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                    raise
                log.exception("recorded callback %s cannot be routed", key)
                self.dispatcher.settle_failed(key, userid_, received_at, f"{type(exc).__name__}: {exc}")
        return len(candidates)

    def drain(self, userid: str | None = None) -> None:
        """Route until nothing is pending (for one member, or for all)."""
        while self.run_once(userid):
            pass

    def run_forever(self, stop: threading.Event) -> None:
        """Route until `stop` is set; when idle, sleep until woken by the webhook or the poll."""
        wake_on_stop = threading.Thread(target=lambda: (stop.wait(), self.event.set()), daemon=True)
        wake_on_stop.start()
        while not stop.is_set():
            try:
                self.event.clear()  # a callback recorded after this point wakes the wait below at once
                routed = self.run_once(polite=True)
                if routed == 0:
                    self.event.wait(self.poll_seconds)
                elif routed < self.batch_size and self.gather_seconds:
                    # Busy: let the next callbacks gather (one look for many) and leave the webhook the time
                    # between, however often it wakes us; an idle worker answers the first callback at once.
                    stop.wait(self.gather_seconds)
            except Exception:  # keep the thread alive through a database hiccup
                log.exception("routing loop error")
                stop.wait(5.0)
