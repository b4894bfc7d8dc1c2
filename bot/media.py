"""Chat attachments: the sender downloads a member's MediaId outside any request and hands the bytes to
the one intake (`workflows.intake`), the same path as the upload pages."""
from __future__ import annotations

import datetime as dt
from typing import Callable

from sqlalchemy import select

from workflows.call import TrainingMaterial
from sqlalchemy.orm import Session

from workflows import intake
from workflows.apply.models import Document
from workflows.core.errors import DomainError
from workflows.core.models import OutboxMessage
from workflows.core.settings import Settings
from workflows.documents.filetypes import KINDS, sniff
from workflows.documents.store import DocumentStore

# The download purpose of every chat attachment; the older names are read for rows queued before.
PURPOSE = "upload"
LEGACY_PURPOSES = ("material", "supplement", "complaint")


def document_opener(store: DocumentStore, sessions: Callable[[], Session]) -> Callable[[str], tuple[bytes, str]]:
    """`open_document(sha256) -> (bytes, mime)` for the sender's send_file (size from the database)."""
    def open_document(sha256: str) -> tuple[bytes, str]:
        with sessions() as s:
            doc = s.scalar(select(Document).where(Document.sha256 == sha256).limit(1))
            if doc is None:  # not an application's document: a course file of the training
                doc = s.scalar(select(TrainingMaterial).where(TrainingMaterial.sha256 == sha256).limit(1))
            if doc is None:   # a file the bot wrote itself (the approval package): its name is its hash
                return _made_here(store, sha256)
            size, kind = doc.size, doc.kind
        return store.read_bytes(sha256, size), KINDS[kind].mime
    return open_document


def download_limits(settings: Settings) -> Callable[[OutboxMessage], tuple[int, tuple[str, ...] | None]]:
    """A chat download's bounds from its target's rules: (max bytes, accepted extensions). A file over the
    size or of another type is refused while downloading (streamed, at once, not retried)."""
    fallback = max(m.max_bytes for m in settings.award.materials)

    def limits(row: OutboxMessage) -> tuple[int, tuple[str, ...] | None]:
        try:
            r = intake.rules(settings, intake.Target.from_data(row.data or {}))
        except (DomainError, KeyError, TypeError, ValueError):  # an old or odd row: the intake decides later
            return fallback, None
        return r.max_bytes, tuple(e for k in r.kinds for e in KINDS[k].extensions)
    return limits


def _made_here(store: DocumentStore, sha256: str) -> tuple[bytes, str]:
    """A stored file no table records: verified against its hash, its kind read from its bytes."""
    path = store.path_for(sha256)
    if not path.is_file():
        raise LookupError(sha256)
    kind = sniff(path)
    if kind is None:
        raise LookupError(sha256)
    return store.read_bytes(sha256, path.stat().st_size), KINDS[kind].mime


def download_handler(store: DocumentStore, settings: Settings):  # noqa: ANN201
    """The sender's handler for every downloaded chat attachment: the intake stores, attaches and tells.

    The file is judged (deadlines, windows) at the time WeCom delivered the callback that carried it, not at
    the sender's download time: a file sent before a deadline is on time however late the download."""
    def on_download(session: Session, row: OutboxMessage, content: bytes | None, filename: str,
                    error: str | None, now: dt.datetime) -> None:
        data = row.data or {}
        target = intake.Target.from_data(data)
        intake.receive_download(session, settings, store, target=target, userid=row.recipient,
                                content=None if error else content,
                                filename=filename or str(data.get("filename") or ""),
                                now=min(now, received_at(row) or now), error=error)
    return on_download


def received_at(row: OutboxMessage) -> dt.datetime | None:
    """When the callback that carried a chat attachment was received (a row queued before this was kept: when
    the download was queued, which the routing did at that time)."""
    raw = (row.data or {}).get("received_at")
    try:
        at = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else row.created_at
    except ValueError:
        at = row.created_at
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return at
