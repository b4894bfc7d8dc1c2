"""GET/POST /evidence/<token>: a complainant adds evidence files on a page, with the same checks as chat."""
from __future__ import annotations

from flask import Blueprint, Response, request

from workflows import complaints, notices
from workflows.documents import AllowedTypes, DocumentRejected
from workflows.errors import DomainError
from workflows.filetypes import KINDS
from workflows.model import Complaint

from .. import media
from .pages import FORM_OVERHEAD, _plain, _read, _rt, error_page, page

bp = Blueprint("evidence", __name__)
OPEN_STATUSES = ("draft", "submitted")  # evidence is welcome until the complaint is concluded


@bp.route("/evidence/<token>", methods=["GET", "POST"])
def evidence(token: str) -> Response:
    """Show the evidence form for one complaint, or receive a file."""
    rt = _rt()
    data, refused = _read(rt.services["links"].read_evidence, token)
    if refused:
        return refused
    settings, now = rt.settings, rt.clock()
    rules = settings.award.rules
    max_bytes = rules.complaint_evidence_max_mb << 20
    with rt.sessions() as s:
        complaint = s.get(Complaint, int(data["c"]))
        if complaint is None or complaint.complainant != data["u"]:
            return error_page("pages.link_invalid", 403)
        if complaint.status not in OPEN_STATUSES:
            return error_page("pages.complaint_closed", 409)
        try:
            complaints.require_window_open(s, settings, now=now)
        except DomainError as exc:
            return error_page(f"errors.{exc.code}", 409, **exc.data)
        context = {"token": token, "number": complaint.number or "", "kinds": rules.complaint_evidence_kinds,
                   "max_mb": rules.complaint_evidence_max_mb,
                   "accept": ",".join("." + e for k in rules.complaint_evidence_kinds for e in KINDS[k].extensions)}
    if request.method == "GET":
        return page("evidence", **context)
    if request.content_length is not None and request.content_length > max_bytes + FORM_OVERHEAD:
        return page("evidence", 413, **context, problem=_plain(
            "complaint.evidence_rejected", filename="", code="too_large", kinds=context["kinds"],
            max_mb=context["max_mb"]))
    request.max_content_length = max_bytes + FORM_OVERHEAD
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return page("evidence", 400, **context, problem=_plain("pages.no_file"))
    try:
        stored = media.document_store(settings).store(
            upload_file.stream, original_name=upload_file.filename,
            allowed=AllowedTypes.from_config(rules.complaint_evidence_kinds), max_bytes=max_bytes)
    except DocumentRejected as exc:
        return page("evidence", 422, **context, problem=_plain(
            "complaint.evidence_rejected", filename=upload_file.filename, code=exc.code, kinds=context["kinds"],
            max_mb=context["max_mb"]))
    finally:
        upload_file.close()
    display = stored.display_name()
    with rt.sessions.begin() as s:
        complaints.attach_evidence(s, complaint_id=int(data["c"]), sha256=stored.sha256, size=stored.size,
                                   kind=stored.kind, original_name=display, now=now)
        notices.notify(s, data["u"], "complaint.evidence_received", now=now, filename=display)
    return page("evidence_done", filename=display, size=stored.size)
