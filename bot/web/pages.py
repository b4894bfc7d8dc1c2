"""GET/POST /upload/<token> (the applicant's upload page) and /materials/<token> (read-only view)."""
from __future__ import annotations

import io
import re
from typing import Any

from flask import Blueprint, Response, current_app, request, send_file
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from workflows import application, recommendation
from workflows.documents import DocumentCorrupted, DocumentMissing, DocumentRejected
from workflows.errors import DomainError
from workflows.filetypes import KINDS
from workflows.model import Document

from .. import media
from ..render import TEMPLATES
from .tokens import BadSignature, SignatureExpired

bp = Blueprint("pages", __name__)
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and fields around the file
_env: Environment | None = None


def _pages() -> Environment:
    global _env
    if _env is None:
        _env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                           autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    return _env


def _rt():  # noqa: ANN202
    return current_app.extensions["awardbot"]


def page(name: str, status: int = 200, **data: Any) -> Response:
    """Render templates/pages/<name>.html.j2 (autoescaped) with security headers."""
    rt = _rt()
    html = _pages().get_template(f"pages/{name}.html.j2").render(award=rt.settings.award,
                                                               local=rt.renderer.local_time, **data)
    resp = Response(html, status=status, mimetype="text/html")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


def _plain(kind: str, **data: Any) -> str:
    """A chat message template as plain text for a page (markdown marks removed)."""
    bodies = _rt().renderer.message("page", kind, data)
    body = bodies[0]
    text = body.get("markdown", body.get("text", {})).get("content", "")
    return re.sub(r"[`*>]", "", text)


def error_page(kind: str, status: int, **data: Any) -> Response:
    """A polite page explaining what went wrong, with the chat's wording."""
    return page("error", status, message=_plain(kind, **data))


def _read(reader, token: str):  # noqa: ANN001, ANN202
    try:
        return reader(token), None
    except SignatureExpired:
        return None, error_page("pages.link_expired", 410)
    except BadSignature:
        return None, error_page("pages.link_invalid", 403)


@bp.route("/upload/<token>", methods=["GET", "POST"])
def upload(token: str) -> Response:
    """Show the upload form for one material item, or receive the file."""
    rt = _rt()
    data, refused = _read(rt.services["links"].read_upload, token)
    if refused:
        return refused
    settings, now = rt.settings, rt.clock()
    try:
        item = settings.award.material(data["i"])
    except KeyError:
        return error_page("pages.link_invalid", 403)
    with rt.sessions() as s:
        try:
            app = application.get(s, settings, int(data["a"]))
            if app.applicant != data["u"]:
                return error_page("pages.link_invalid", 403)
            current = application.current_documents(app).get(item.key)
            deadline = application.require_uploadable(s, settings, app, item.key, now)
        except DomainError as exc:
            return error_page(f"errors.{exc.code}", 409, **exc.data)
        context = {"item": item, "current": current, "number": app.number, "token": token,
                   "enterprise": app.enterprise_name or "", "accept": ",".join(
                       "." + e for k in item.kinds for e in KINDS[k].extensions),
                   "deadline": deadline}
    if request.method == "GET":
        return page("upload", **context)
    if request.content_length is not None and request.content_length > item.max_bytes + FORM_OVERHEAD:
        return page("upload", 413, **context, problem=_plain("apply.file_rejected", code="too_large",
                    item=item.name, kinds=item.kinds, max_mb=item.max_mb, detected="", reason=""))
    request.max_content_length = item.max_bytes + FORM_OVERHEAD
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return page("upload", 400, **context, problem=_plain("pages.no_file"))
    try:
        stored = media.store_upload(rt.services["documents"], settings, item.key, upload_file.stream,
                                    upload_file.filename)
    except DocumentRejected as exc:
        return page("upload", 422, **context, problem=_plain(
            "apply.file_rejected", **media.rejection_data(settings, item.key, exc)))
    finally:
        upload_file.close()
    try:
        with rt.sessions.begin() as s:
            doc = application.attach_document(s, settings, application_id=int(data["a"]), item_key=item.key,
                                              stored=stored, source="page", actor=data["u"], now=now)
            from ..handlers.application import after_upload
            after_upload(s, settings, int(data["a"]), data["u"], now)
            filename, size = doc.original_name, doc.size
    except DomainError as exc:
        return error_page(f"errors.{exc.code}", 409, **exc.data)
    return page("upload_done", item=item, filename=filename, size=size)


def _viewable(token: str):  # noqa: ANN202
    rt = _rt()
    data, refused = _read(rt.services["links"].read_view, token)
    if refused:
        return None, None, refused
    s = rt.sessions()
    try:
        app = application.get(s, rt.settings, int(data["a"]))
    except DomainError:
        s.close()
        return None, None, error_page("pages.link_invalid", 404)
    # Checked on every request: a member removed from the roster loses access at once.
    if not recommendation.may_view_documents(s, rt.settings, data["u"], app):
        s.close()
        return None, None, error_page("pages.not_allowed", 403)
    return s, app, None


@bp.get("/materials/<token>")
def materials(token: str) -> Response:
    """A read-only list of an application's current materials."""
    s, app, refused = _viewable(token)
    if refused:
        return refused
    with s:
        docs = sorted(application.current_documents(app).values(), key=lambda d: d.id)
        names = {m.key: m.name for m in _rt().settings.award.materials}
        return page("materials", number=app.number or "", enterprise=app.enterprise_name or "", token=token,
                    docs=[{"id": d.id, "item": names.get(d.item_key, d.item_key), "name": d.original_name,
                           "size": d.size, "status": d.status} for d in docs])


@bp.get("/materials/<token>/<int:doc_id>")
def material_file(token: str, doc_id: int) -> Response:
    """One document as an attachment, verified against its SHA-256, after the authorisation check."""
    s, app, refused = _viewable(token)
    if refused:
        return refused
    with s:
        doc = s.get(Document, doc_id)
        if doc is None or doc.application_id != app.id:
            return error_page("pages.link_invalid", 404)
        try:
            # Read whole (≤ the item's size cap) so the SHA-256 is verified before a byte is sent.
            content = _rt().services["documents"].read_bytes(doc.sha256, doc.size)
        except (DocumentMissing, DocumentCorrupted):
            return error_page("pages.file_unavailable", 503)
        resp = send_file(io.BytesIO(content), mimetype=KINDS[doc.kind].mime, as_attachment=True,
                         download_name=doc.original_name, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp

