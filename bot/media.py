"""Chat attachments and the document store: downloaded media become application documents.

The sender downloads a member's MediaId outside any request and calls `on_material` in a new
transaction; the same checks as the upload page apply (type by content, size, SHA-256).
"""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import application, notices
from workflows.documents import DocumentRejected, DocumentStore, StoredDocument, ZipLimits
from workflows.errors import DomainError
from workflows.filetypes import KINDS, AllowedTypes
from workflows.model import Document, OutboxMessage
from workflows.settings import Settings

PURPOSE = "material"


def document_store(settings: Settings) -> DocumentStore:
    """The content-addressed store configured by [storage]."""
    st = settings.storage
    limits = ZipLimits(max_total_uncompressed=st.zip_max_total_mb * 1024 * 1024, max_ratio=st.zip_max_ratio,
                       ratio_min_bytes=st.zip_ratio_min_kb * 1024, max_members=st.zip_max_members,
                       max_depth=st.zip_max_depth)
    return DocumentStore(Path(st.dir), zip_limits=limits)


def document_opener(store: DocumentStore, sessions: Callable[[], Session]) -> Callable[[str], tuple[bytes, str]]:
    """`open_document(sha256) -> (bytes, mime)` for the sender's send_file (size from the database)."""
    def open_document(sha256: str) -> tuple[bytes, str]:
        with sessions() as s:
            doc = s.scalar(select(Document).where(Document.sha256 == sha256).limit(1))
            if doc is None:
                raise LookupError(sha256)
            size, kind = doc.size, doc.kind
        return store.read_bytes(sha256, size), KINDS[kind].mime
    return open_document


def store_upload(store: DocumentStore, settings: Settings, item_key: str, stream: io.IOBase | io.BytesIO,
                 filename: str) -> StoredDocument:
    """Check and store one upload for a material item (raises DocumentRejected)."""
    item = settings.award.material(item_key)
    return store.store(stream, original_name=filename or "", allowed=AllowedTypes.from_config(item.kinds),
                       max_bytes=item.max_bytes)


def rejection_data(settings: Settings, item_key: str, exc: DocumentRejected) -> dict:
    """What the rejection message needs: the reason code, the item and its limits."""
    item = settings.award.material(item_key)
    return {"code": exc.code, "item": item.name, "kinds": item.kinds, "max_mb": item.max_mb,
            "detected": exc.data.get("detected") or "", "reason": exc.data.get("reason") or ""}


def material_handler(store: DocumentStore, settings: Settings):  # noqa: ANN201
    """The sender's media handler for chat attachments sent during the application's material step."""
    def on_material(session: Session, row: OutboxMessage, content: bytes | None, filename: str,
                    error: str | None, now: dt.datetime) -> None:
        userid, data = row.recipient, row.data
        item_key, app_id = data["item_key"], int(data["application_id"])
        item = settings.award.material(item_key)
        if content is None:
            # Media ids expire after 3 days or may be unknown: the applicant simply sends it again.
            notices.notify(session, userid, "apply.media_failed", now=now, _reply=True, item=item.name,
                           error=error or "", application_id=app_id, item_key=item_key)
            return
        try:
            stored = store_upload(store, settings, item_key, io.BytesIO(content), filename or data.get("filename", ""))
        except DocumentRejected as exc:
            notices.notify(session, userid, "apply.file_rejected", now=now, _reply=True,
                           application_id=app_id, item_key=item_key, **rejection_data(settings, item_key, exc))
            return
        try:
            with session.begin_nested():
                application.attach_document(session, settings, application_id=app_id, item_key=item_key,
                                            stored=stored, source="chat", actor=userid, now=now)
                from .handlers.application import after_upload
                after_upload(session, settings, app_id, userid, now)
        except DomainError as exc:
            notices.notify(session, userid, f"errors.{exc.code}", now=now, _reply=True, **exc.data)
    return on_material
