"""The outbox sender: claims due rows, calls WeCom outside any transaction, records the outcome.

Exactly once for the member (docs/reliability.md): the sender is at-least-once (a crash after a
successful call but before the row is marked re-sends it after the claim expires), and every body
carries WeCom's `enable_duplicate_check`, so the resend of the same row is accepted but not
delivered again.  A *different* row whose body would read exactly the same within the interval is
made unique when it is claimed (the renderer's repeat mark, stored with the row, so its own resend
stays identical); a repeated file gets its own upload.  Each claim carries a token: a sender records
an outcome only while the row still carries its token, so a sender that lost its claim (it stalled
past the lease and another sender took the row over) never overwrites what the new holder recorded.
Which rows a sender takes (member order, rate limits, repeat marks) is `bot/claims.py`; the lease outlasts
the work it covers (`run_once` renews it before a row that might outrun it).
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from typing import Any, Callable, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from workflows.core import audit, people
from workflows.core.models import CardTask, OutboxMessage, UploadedMedia
from workflows.core.settings import Settings

from .claims import MESSAGE_ACTIONS, VISIBLE_ACTIONS, Claimed, Claims
from .outbox import SCRUBBED, SEALED, open_row
from .wakeup import Wakeup
from .wecom import members
from .wecom.client import MediaRejected, WeComClient, WeComError

log = logging.getLogger(__name__)

RETRYABLE = {-1, 45009, 45033}
SLOW_RETRY = {45009: 60.0}     # a per-minute block lasts 60 s
LEASE = dt.timedelta(minutes=2)      # the shortest lease; longer when one row's work may take longer (below)
ROW_CALLS = 6   # the most WeCom requests one row makes: a file's upload and send, each with a token refresh
MEDIA_REUSE = dt.timedelta(days=2)   # WeCom keeps an uploaded media_id for 3 days
_T = OutboxMessage.__table__
_OURS = (_T.c.id.in_(bindparam("ids", expanding=True)), _T.c.claim_token == bindparam("token"), _T.c.status == "sending")
# Built once: a batch's rows still ours marked sent (RETURNING those ids), their kept answers, a lease renewed.
_MARK_SENT = (update(_T).where(*_OURS)
              .values(status="sent", sent_at=bindparam("at"), attempts=_T.c.attempts + 1, claim_token=None)
              .returning(_T.c.id))
_KEEP_RESULT = (update(_T).where(_T.c.id == bindparam("b_id"))
                .values(result=bindparam("b_result", type_=_T.c.result.type)))
_RENEW = update(_T).where(*_OURS).values(claimed_until=bindparam("until")).returning(_T.c.id)


class MediaHandler(Protocol):
    """Handles a downloaded chat attachment (or its failure) in a transaction."""

    def __call__(self, session: Session, row: OutboxMessage, content: bytes | None, filename: str,
                 error: str | None, now: dt.datetime) -> None: ...


class Sender(Claims):
    """Delivers outbox rows through the WeCom client with retries, backoff and per-member limits."""

    def __init__(self, sessions: sessionmaker[Session], client: WeComClient, settings: Settings, *,
                 open_document: Callable[[str], tuple[bytes, str]] | None = None,
                 media_handlers: dict[str, MediaHandler] | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
                 rng: random.Random | None = None,
                 mark_repeat: Callable[[dict[str, Any], int, dt.datetime], dict[str, Any] | None] | None = None,
                 ) -> None:
        self.sessions = sessions
        self.client = client
        self.settings = settings
        self.conf = settings.sender
        self.agent_id = settings.wecom.agent_id
        self.open_document = open_document
        self.media_handlers = media_handlers or {}
        self.clock = clock
        self.rng = rng or random.Random()
        self.max_media_bytes = max(m.max_bytes for m in settings.award.materials)
        # A download's (max bytes, accepted extensions or None) for its row; None: the largest item, any type.
        self.media_limits: Callable[[Claimed], tuple[int, tuple[str, ...] | None]] | None = None
        # (body, n, now) -> the body with a visible "n-th time" mark, or None if it cannot carry one.
        self.mark_repeat = mark_repeat
        self.duplicate_window = dt.timedelta(seconds=self.conf.duplicate_check_interval)
        self.wakeup: Wakeup | None = None  # set by the runtime: woken by commits instead of only polling
        # The lease always outlasts the work it covers: one row's calls at most (`row_budget`), since the rest of
        # a batch is renewed (and what went through recorded) before a row that might not end within it.
        self.row_budget = dt.timedelta(seconds=ROW_CALLS * settings.wecom.request_timeout_seconds)
        self.lease = max(LEASE, 2 * self.row_budget)

    # -- delivering -----------------------------------------------------------------------
    def run_once(self) -> int:
        """Claim and deliver one batch; return how many rows were attempted.

        Before a row that might not end within the batch's lease (less than `row_budget` left), what went through
        is recorded and the lease of the rows still to go renewed, so no other sender can take over a row of a
        slow batch; a row whose claim is lost meanwhile (this sender stalled) is left to its new holder."""
        now = self.clock()
        rows = self.claim(now)
        lease_until = now + self.lease
        failed: set[str] = set()
        lost: set[int] = set()
        sent: list[tuple[Claimed, dict[str, Any]]] = []  # plain messages sent, recorded together below
        for index, row in enumerate(rows):
            if self.clock() + self.row_budget > lease_until:
                self.record_sent(sent)
                lease_until, kept = self.renew(rows[index:])
                lost.update(r.id for r in rows[index:] if r.id not in kept)
            if row.id in lost:
                failed.add(row.recipient)  # its member's later rows wait too (they are another sender's now)
                continue
            if sent and row.action != "send":
                self.record_sent(sent)  # e.g. a card update reads the code its card's send recorded
            if row.recipient in failed and row.action in VISIBLE_ACTIONS:
                self._release(row)  # keep the member's order: wait behind the failed row
            elif not self.deliver(row, sent) and row.action in VISIBLE_ACTIONS:
                failed.add(row.recipient)
        self.record_sent(sent)
        return len(rows)

    def renew(self, rows: list[Claimed]) -> tuple[dt.datetime, set[int]]:
        """Extend the lease of claimed rows, each only while it is still ours: (the new end, the ids kept)."""
        until = self.clock() + self.lease
        by_token: dict[str | None, list[int]] = {}
        for row in rows:
            by_token.setdefault(row.claim_token, []).append(row.id)
        kept: set[int] = set()
        with self.sessions.begin() as s:
            audit.exempt(s)  # never audits: no audit lock for its row locks
            for token, ids in by_token.items():
                kept.update(s.connection().execute(_RENEW, {"ids": ids, "token": token, "until": until}).scalars())
        for row in rows:
            if row.id in kept:
                row.claimed_until = until
            else:
                log.warning("outbox row %s: claim lost before it was sent, left to its new holder", row.id)
        return until, kept

    def _release(self, row: Claimed) -> None:
        with self.sessions.begin() as s:
            audit.exempt(s)  # never audits: no audit lock for its row locks
            self._update_claimed(s, row, status="pending", claimed_until=None, claim_token=None)

    @staticmethod
    def _update_claimed(s: Session, row: Claimed, **values: Any) -> bool:
        """UPDATE the row only while it is still ours (same claim token, still sending); False if the claim was
        lost (the lease expired and another sender took the row over): then nothing is overwritten."""
        done = s.execute(update(OutboxMessage)
                         .where(OutboxMessage.id == row.id, OutboxMessage.claim_token == row.claim_token,
                                OutboxMessage.status == "sending")
                         .values(**values).execution_options(synchronize_session=False)).rowcount == 1
        if not done:
            log.warning("outbox row %s: claim lost, outcome not recorded", row.id)
        return done

    def deliver(self, row: Claimed, sent: list[tuple[Claimed, dict[str, Any]]] | None = None) -> bool:
        """Make the WeCom call(s) for one claimed row and record the outcome; False if it must wait.

        With `sent`, a plain message that went through is appended there instead, for the caller to record
        with its batch's others in one transaction (`record_sent`); every other outcome is recorded here."""
        content, filename, error = None, "", None
        batched = sent is not None and row.action == "send" and not (row.data or {}).get(SEALED)
        try:
            # A sealed row is opened here, in memory only (the stored row stays sealed, then is blanked).
            row.data, row.payload = open_row(self.settings, row)
            result: dict[str, Any] = {}
            if row.action == "send":
                result = self.client.send_message(row.payload["body"])
            elif row.action == "update_card" and members.is_linked(row.recipient):
                # A linked-corp member never got the template card; its page shows the current state.
                result = {"errcode": 0, "skipped": "linked corp: card page"}
            elif row.action == "update_card":
                body = self._with_response_code(row)
                if body is None:  # the card was never delivered or has no code: nothing to update
                    result = {"errcode": 0, "skipped": "no response_code"}
                else:
                    result = self.client.update_template_card(body)
            elif row.action == "send_file":
                result = self._send_file(row)
            elif row.action == "fetch_media":
                max_bytes, extensions = (self.media_limits(row) if self.media_limits
                                         else (self.max_media_bytes, None))
                content, filename = self.client.download_media(row.data["media_id"], max_bytes, extensions)
            elif row.action == "fetch_user":
                result = {"name": self.client.member_name(row.recipient)}
            else:
                raise WeComError(None, f"unknown action {row.action}", 400)
        except WeComError as exc:
            if (row.action in ("fetch_media", "fetch_user") and not self._retryable(exc)
                    and not isinstance(exc, MediaRejected)):  # a refused file is dead at once (below)
                # Not a delivery: the outcome (no file, no name) is handled, not left as a dead row.
                error = str(exc.errcode or exc.errmsg)
                result = {"error": error}
            else:
                self._failed(row, exc)
                return False
        except Exception as exc:  # a bug must not kill the sender; the row becomes visible as dead
            log.exception("outbox row %s crashed", row.id)
            self._failed(row, WeComError(None, f"{type(exc).__name__}: {exc}", 400))
            return False
        if batched:
            assert sent is not None
            sent.append((row, result))
            return True
        self._succeeded(row, result if row.action != "fetch_media" else {"filename": filename, "error": error},
                        content, filename, error)
        return True

    def _with_response_code(self, row: Claimed) -> dict[str, Any] | None:
        """The update body; without a click's code (a CLI or sample decision), the code WeCom gave at send."""
        body = row.payload["body"]
        if body.get("response_code"):
            return body
        with self.sessions() as s:
            task = s.get(CardTask, row.data.get("task_id", ""))
            sent = s.get(OutboxMessage, task.outbox_id) if task and task.outbox_id else None
            code = (sent.result or {}).get("response_code") if sent is not None else None
        return {**body, "response_code": code} if code else None

    def _send_file(self, row: Claimed) -> dict[str, Any]:
        if self.open_document is None:
            raise WeComError(None, "no document store configured", 400)
        sha256, filename = row.data["sha256"], row.data["filename"]
        now = self.clock()
        linked = members.is_linked(row.recipient)
        media_id = None
        if (row.payload or {}).get("media_id") and now - dt.datetime.fromisoformat(row.payload["uploaded_at"]) \
                < MEDIA_REUSE:
            media_id = row.payload["media_id"]  # this row's own resend: the same body, so WeCom drops it
        if media_id is None:
            with self.sessions() as s:
                cached = s.get(UploadedMedia, (sha256, filename))
                repeat = not linked and self._file_sent_within_interval(s, row, now)
            # The same file again to the same member within the interval is a new message: a new upload
            # (a new media_id) keeps WeCom's duplicate check from dropping it.
            fresh = cached is not None and not repeat and now - cached.uploaded_at < MEDIA_REUSE
            media_id, uploaded_at = (cached.media_id, cached.uploaded_at) if fresh else (None, now)
            if media_id is None:
                content, mime = self.open_document(sha256)
                media_id = self.client.upload_media("file", filename, content, mime)
                with self.sessions.begin() as s:
                    audit.exempt(s)  # never audits: no audit lock for its row locks
                    s.merge(UploadedMedia(sha256=sha256, filename=filename, media_id=media_id, uploaded_at=now))
            with self.sessions.begin() as s:  # remember the body this row sends, for its own resend
                audit.exempt(s)  # never audits: no audit lock for its row locks
                payload = {"media_id": media_id, "uploaded_at": uploaded_at.isoformat()}
                if not self._update_claimed(s, row, payload=payload):
                    raise WeComError(None, "claim lost before sending", 409)
        body: dict[str, Any] = {**members.addressed(row.recipient, self.agent_id),
                                "msgtype": "file", "file": {"media_id": media_id}}
        if not linked:
            body |= {"enable_duplicate_check": 1, "duplicate_check_interval": self.conf.duplicate_check_interval}
        return self.client.send_message(body)

    def _file_sent_within_interval(self, s: Session, row: Claimed, now: dt.datetime) -> bool:
        others = s.scalars(select(OutboxMessage.data)
                           .where(OutboxMessage.recipient == row.recipient, OutboxMessage.action == "send_file",
                                  OutboxMessage.id != row.id,
                                  ((OutboxMessage.status == "sent")
                                   & (OutboxMessage.sent_at > now - self.duplicate_window))
                                  | (OutboxMessage.status == "sending")))
        return any(d.get("sha256") == row.data["sha256"] and d.get("filename") == row.data["filename"]
                   for d in others)

    @staticmethod
    def _retryable(exc: WeComError) -> bool:
        if exc.errcode is None:
            return exc.http_status is None or exc.http_status >= 500 or exc.http_status == 429
        return exc.errcode in RETRYABLE

    def _succeeded(self, row: Claimed, result: dict[str, Any], content: bytes | None, filename: str,
                   error: str | None) -> None:
        now = self.clock()
        try:
            self._record_success(row, result, content, filename, error, now)
        except Exception as exc:  # a failing media handler: keep the row visible instead of retrying forever
            log.exception("recording outbox row %s failed", row.id)
            with self.sessions.begin() as s:
                audit.exempt(s)  # never audits: no audit lock for its row locks
                if self._update_claimed(s, row, status="dead", attempts=OutboxMessage.attempts + 1, claim_token=None,
                                        last_error=f"handler: {type(exc).__name__}: {exc}"[:1000]):
                    fresh = s.get(OutboxMessage, row.id, populate_existing=True)
                    if fresh is not None:
                        _blank_if_sealed(fresh)

    def record_sent(self, sent: list[tuple[Claimed, dict[str, Any]]]) -> None:
        """Record plain messages that went through, all in one transaction, and empty `sent`.

        Each row is marked only while it still carries its claim's token (as `_update_claimed`): one UPDATE for
        the batch's rows of a claim (RETURNING the ids still ours), then each kept result by id. Unsealed sends
        only: they have no handler and nothing to blank."""
        if not sent:
            return
        now = self.clock()
        by_token: dict[str | None, list[tuple[Claimed, dict[str, Any]]]] = {}
        for row, result in sent:
            by_token.setdefault(row.claim_token, []).append((row, result))
        sent.clear()
        with self.sessions.begin() as s:
            audit.exempt(s)  # no handler: never audits
            for token, items in by_token.items():
                ids = [row.id for row, _ in items]
                conn = s.connection()
                ours = set(conn.execute(_MARK_SENT, {"ids": ids, "token": token, "at": now}).scalars())
                for row_id in sorted(set(ids) - ours):
                    log.warning("outbox row %s: claim lost, outcome not recorded", row_id)
                kept = [{"b_id": row.id, "b_result": _kept(result)} for row, result in items if row.id in ours]
                if kept:
                    conn.execute(_KEEP_RESULT, kept)

    def _record_success(self, row: Claimed, result: dict[str, Any], content: bytes | None, filename: str,
                        error: str | None, now: dt.datetime) -> None:
        kept = _kept(result)
        with self.sessions.begin() as s:
            if row.action in MESSAGE_ACTIONS or row.action == "update_card":  # no handler: never audits
                audit.exempt(s)
            # The final write happens only while the claim is still ours (UPDATE … WHERE id AND claim_token).
            if not self._update_claimed(s, row, status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1,
                                        result=kept, claim_token=None):
                return
            fresh = s.get(OutboxMessage, row.id, populate_existing=True)
            if fresh is None:
                return
            _blank_if_sealed(fresh)
            if fresh.action == "fetch_user" and result.get("name"):
                people.remember_name(s, fresh.recipient, result["name"], now=now)
            if fresh.action == "fetch_media":
                purpose = fresh.kind.split(".", 1)[1]
                handler = self.media_handlers.get(purpose)
                if handler is None:
                    raise RuntimeError(f"no media handler for {purpose!r}")
                handler(s, fresh, content, filename, error, now)

    def _failed(self, row: Claimed, exc: WeComError) -> None:
        now = self.clock()
        with self.sessions.begin() as s:
            if row.action != "fetch_media":  # only a download's failure handler audits
                audit.exempt(s)
            fresh = s.get(OutboxMessage, row.id, with_for_update=True)
            if fresh is None or fresh.status != "sending" or fresh.claim_token != row.claim_token:
                log.warning("outbox row %s: claim lost, failure not recorded", row.id)
                return
            fresh.claim_token = None
            fresh.attempts += 1
            fresh.last_error = str(exc)[:1000]
            if not self._retryable(exc) or fresh.attempts >= self.conf.max_attempts:
                fresh.status = "dead"
                _blank_if_sealed(fresh)
                log.warning("outbox row %s dead after %s attempts: %s", fresh.id, fresh.attempts, exc)
                if fresh.action == "fetch_media":
                    handler = self.media_handlers.get(fresh.kind.split(".", 1)[1])
                    if handler and isinstance(exc, MediaRejected):  # the member hears why (too large, type)
                        handler(s, fresh, None, str(exc.data.get("filename") or ""), exc.code, now)
                    elif handler:
                        handler(s, fresh, None, "", str(exc.errcode or exc.errmsg), now)
                return
            delay = min(self.conf.backoff_max_seconds, self.conf.backoff_base_seconds * 2 ** (fresh.attempts - 1))
            delay = max(SLOW_RETRY.get(exc.errcode or 0, 0.0), delay * (0.5 + self.rng.random() / 2))
            fresh.status, fresh.claimed_until = "pending", None
            fresh.next_attempt_at = now + dt.timedelta(seconds=delay)

    def run_forever(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set; when idle, sleep until woken (a commit that queued rows) or the poll."""
        wakeup = self.wakeup or Wakeup()
        listener = wakeup.listen(self.sessions.kw["bind"], stop) if self.sessions.kw.get("bind") else None
        wake_on_stop = threading.Thread(target=lambda: (stop.wait(), wakeup.set()), daemon=True)
        wake_on_stop.start()
        while not stop.is_set():
            try:
                wakeup.clear()  # a commit after this point wakes the wait below at once
                attempted = self.run_once()
                if attempted == 0:
                    wakeup.wait(self.conf.poll_seconds)
                elif attempted < self.conf.batch_size and self.conf.gather_seconds:
                    # Busy: let the next rows gather (one claim for many), however often commits wake us.
                    stop.wait(self.conf.gather_seconds)
            except Exception:  # keep the thread alive through a database hiccup
                log.exception("sender loop error")
                stop.wait(min(5.0, self.conf.poll_seconds * 10))
        if listener is not None:
            listener.join(timeout=2)


def _kept(result: dict[str, Any]) -> dict[str, Any]:
    """What of a WeCom answer the row keeps."""
    return {k: v for k, v in result.items() if k in ("msgid", "response_code", "invaliduser", "filename", "error",
                                                     "errcode", "skipped", "name")}


def _blank_if_sealed(row: OutboxMessage) -> None:
    """A sealed row (a member's ballot choice) keeps nothing once it is finished, sent or dead."""
    if (row.data or {}).get(SEALED):
        row.data, row.payload = SCRUBBED, SCRUBBED
