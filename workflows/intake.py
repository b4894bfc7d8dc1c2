"""One intake for every upload channel: a chat attachment, the upload page, 补正 and complaint evidence.

`accept` is the only way a file becomes part of the award: it checks that the uploader may send it
now, stores it with the document checks (type by content, size while streaming, ZIP bombs,
SHA-256), attaches it where it belongs and confirms it to the uploader in chat. Each channel only
says where the file is going (`Target`) and how it arrived (`source`).
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

from sqlalchemy.orm import Session

from workflows.apply import application, flow
from workflows.apply.models import AppStatus
from workflows.core import access, notices
from workflows.core.errors import DomainError, NotAllowed, NotFound
from workflows.core.settings import Settings
from workflows.documents.filetypes import KINDS, AllowedTypes
from workflows.documents.store import DocumentRejected, DocumentStore
from workflows.publicity import channels, complaints
from workflows.publicity.models import Complaint
from workflows.review import supplement

EVIDENCE_OPEN = ("draft", "submitted")  # evidence is welcome until the complaint is concluded


@dataclass(frozen=True)
class Target:
    """Where an upload goes: an application's material item, or a complaint's evidence."""

    kind: Literal["material", "evidence"]
    id: int
    item_key: str = ""

    def data(self) -> dict[str, Any]:
        """The target as JSON-able data (carried by a chat download until the file arrives)."""
        return {"target": self.kind, "target_id": self.id, "item_key": self.item_key}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Target:
        """The target a chat download was queued for (also reads rows queued before targets had names)."""
        if "target" in data:
            return cls(data["target"], int(data["target_id"]), str(data.get("item_key") or ""))
        if "complaint_id" in data:
            return cls("evidence", int(data["complaint_id"]))
        return cls("material", int(data["application_id"]), str(data.get("item_key") or ""))


@dataclass(frozen=True)
class Rules:
    """What a target accepts: file kinds and the size cap, and how to name it to the uploader."""

    label: str
    kinds: tuple[str, ...]
    max_mb: int

    @property
    def max_bytes(self) -> int:
        """The size cap in bytes."""
        return self.max_mb << 20

    @property
    def allowed(self) -> AllowedTypes:
        """The allowed kinds for the store's checks."""
        return AllowedTypes.from_config(self.kinds)

    @property
    def accept(self) -> str:
        """The file-input `accept` attribute: every allowed extension."""
        return ",".join("." + e for k in self.kinds for e in KINDS[k].extensions)


@dataclass(frozen=True)
class Accepted:
    """A file that is now part of the award."""

    target: Target
    filename: str
    size: int
    sha256: str


def rules(settings: Settings, target: Target) -> Rules:
    """The kinds and size a target accepts (the material item's, or the complaint evidence rules)."""
    if target.kind == "material":
        try:
            item = settings.award.material(target.item_key)
        except KeyError:
            raise NotFound(what=target.item_key[:40]) from None
        return Rules(item.name, tuple(item.kinds), item.max_mb)
    r = settings.award.rules
    return Rules("", tuple(r.complaint_evidence_kinds), r.complaint_evidence_max_mb)


def check(session: Session, settings: Settings, target: Target, *, actor: str, now: dt.datetime) -> dt.datetime | None:
    """Raise unless `actor` may send a file for `target` now; the deadline that applies (None: the window's)."""
    rules(settings, target)
    if target.kind == "material":
        access.require(session, "apply.attach", actor)  # a link outlives a roster change: checked every time
        app = application.get(session, settings, target.id)
        if app.applicant != actor:
            raise NotAllowed(action="attach_document")
        if app.status == AppStatus.SUPPLEMENT:
            return supplement.require_uploadable(session, settings, app, target.item_key, now)
        return application.require_uploadable(session, settings, app, target.item_key, now)
    complaint = session.get(Complaint, target.id)
    if complaint is None or complaint.edition != settings.award.edition_key:
        raise NotFound("complaint_not_found")
    offline = complaint.channel in channels.OFFLINE_VIAS
    if offline:
        # Scans of a letter, call notes or a visit's papers: the secretariat adds them, window or not.
        if access.role_of(session, actor) not in access.SECRETARIAT:
            raise NotFound("complaint_not_found")
    elif complaint.complainant != actor:
        raise NotAllowed(action="attach_evidence")   # another member's link: the page answers 403
    if complaint.status not in EVIDENCE_OPEN:
        raise NotAllowed("complaint_closed", number=complaint.number or "")
    if not offline:
        complaints.require_window_open(session, settings, now=now)
    return None


def accept(session: Session, settings: Settings, store: DocumentStore, *, target: Target, stream: BinaryIO,
           filename: str, source: str, actor: str, now: dt.datetime) -> Accepted:
    """Check, store, attach and confirm one upload. Raises DocumentRejected (the file) or DomainError (the moment)."""
    check(session, settings, target, actor=actor, now=now)
    r = rules(settings, target)
    stored = store.store(stream, original_name=filename or "", allowed=r.allowed, max_bytes=r.max_bytes)
    if target.kind == "evidence":
        display = stored.display_name()
        complaints.attach_evidence(session, complaint_id=target.id, sha256=stored.sha256, size=stored.size,
                                   kind=stored.kind, original_name=display, now=now, by=actor)
        if actor not in access.RESERVED_ACTORS:  # a WeCom member is told in chat; the page shows its own answer
            notices.notify(session, actor, "complaint.evidence_received", now=now, filename=display)
        return Accepted(target, display, stored.size, stored.sha256)
    app = application.get(session, settings, target.id)
    if app.status == AppStatus.SUPPLEMENT:
        doc = supplement.supply_document(session, settings, application_id=app.id, item_key=target.item_key,
                                         stored=stored, source=source, actor=actor, now=now)
    else:
        follows = flow.in_dialog(session, actor, app.id)
        doc = application.attach_document(session, settings, application_id=app.id, item_key=target.item_key,
                                          stored=stored, source=source, actor=actor, now=now, prompt_follows=follows)
        flow.after_upload(session, settings, app.id, actor, now)
    return Accepted(target, doc.original_name, doc.size, doc.sha256)


def refusal(settings: Settings, target: Target, exc: DocumentRejected, filename: str = "") -> tuple[str, dict[str, Any]]:
    """The notice (kind, data) that tells the uploader why a file was refused and what is accepted."""
    r = rules(settings, target)
    data = {"code": exc.code, "kinds": list(r.kinds), "max_mb": r.max_mb, "filename": filename,
            "detected": exc.data.get("detected") or "", "reason": exc.data.get("reason") or ""}
    if target.kind == "evidence":
        return "complaint.evidence_rejected", data
    return "apply.file_rejected", {**data, "item": r.label, "application_id": target.id, "item_key": target.item_key}


# Download errors that are a verdict on the file itself (the member hears what is accepted).
REFUSED_DOWNLOADS = ("too_large", "type_not_allowed")


def receive_download(session: Session, settings: Settings, store: DocumentStore, *, target: Target, userid: str,
                     content: bytes | None, filename: str, now: dt.datetime,
                     error: str | None = None) -> Accepted | None:
    """A chat attachment WeCom handed over (or could not): accept it, or tell the member what went wrong.
    `error` too_large / type_not_allowed: the download was refused for the file itself."""
    if content is None and error in REFUSED_DOWNLOADS:
        kind, data = refusal(settings, target, DocumentRejected(str(error)), filename)
        notices.notify(session, userid, kind, now=now, _reply=True, **data)
        return None
    if content is None:
        kind = "complaint.evidence_rejected" if target.kind == "evidence" else "apply.media_failed"
        r = rules(settings, target)
        notices.notify(session, userid, kind, now=now, _reply=True, code="download_failed", filename=filename,
                       item=r.label, kinds=list(r.kinds), max_mb=r.max_mb, error="",
                       application_id=target.id, item_key=target.item_key)
        return None
    try:
        with session.begin_nested():
            return accept(session, settings, store, target=target, stream=io.BytesIO(content), filename=filename,
                          source="chat", actor=userid, now=now)
    except DocumentRejected as exc:
        kind, data = refusal(settings, target, exc, filename)
        notices.notify(session, userid, kind, now=now, _reply=True, **data)
    except DomainError as exc:
        notices.notify(session, userid, f"errors.{exc.code}", now=now, _reply=True, **exc.data)
    return None
