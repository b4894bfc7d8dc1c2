"""GET/POST /upload/<token> (the applicant's upload page) and /materials/<token> (read-only view)."""
from __future__ import annotations

import io
import re
from typing import Any

from flask import Blueprint, Response, current_app, request, send_file
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from workflows import intake
from workflows import apply
from workflows.apply.models import Application, Document
from workflows.core import audit, notices, people, stages
from workflows.core.errors import DomainError, NotAllowed, NotFound
from workflows.documents.filetypes import KINDS
from workflows.documents.store import DocumentCorrupted, DocumentMissing, DocumentRejected

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
        # The chat's macros (the notice window) use `|local`: the running app's award time zone.
        _env.filters["local"] = lambda value, *fmt: _rt().renderer.local_time(value, *fmt)
    return _env


def _rt():  # noqa: ANN202
    return current_app.extensions["awardbot"]


def page(name: str, status: int = 200, **data: Any) -> Response:
    """Render templates/pages/<name>.html.j2 (autoescaped) with security headers."""
    rt = _rt()
    html = _pages().get_template(f"pages/{name}.html.j2").render(award=rt.settings.award, ex=rt.renderer.env.globals["ex"],
                                                               local=rt.renderer.local_time, **data)
    resp = Response(html, status=status, mimetype="text/html")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


# Who reads a page, as templates see it (`to`): a WeCom member on a page opened from the chat ("page"), or a
# member of the public on the complaint page ("public"), who has no chat to go back to.
PAGE, PUBLIC = "page", "public"


def _plain(kind: str, *, reader: str = PAGE, **data: Any) -> str:
    """A chat message template as plain text for a page (markdown marks removed)."""
    bodies = _rt().renderer.message(reader, kind, data)
    body = bodies[0]
    text = body.get("markdown", body.get("text", {})).get("content", "")
    return re.sub(r"[`*>]", "", text)


def error_page(kind: str, status: int, data: dict[str, Any] | None = None, *, reader: str = PAGE) -> Response:
    """A polite page explaining what went wrong, in the words for its reader (`data` fills the message)."""
    return page("error", status, message=_plain(kind, reader=reader, **(data or {})))


def refusal_page(exc: DomainError, *, link: str = "upload", who: str | None = None) -> Response:
    """The page for a refusal by the rules, with the status that says what kind of refusal it is.

    403: the link is someone else's; 404: what it points to does not exist; 409: the moment or the state
    forbids it (stage not open or closed, application submitted, item not requested, complaint concluded).
    Call it outside any open session: a refusal that promises a notice records `who` in a transaction.
    """
    if exc.wait_for and who:
        rt = _rt()
        with rt.sessions.begin() as s:
            stages.promise_notice(s, rt.settings, exc.wait_for, who, now=rt.clock(), word="")
    if isinstance(exc, NotAllowed) and exc.code == "not_allowed":
        return error_page("pages.not_yours", 403, {"link": link})
    if isinstance(exc, NotFound):
        return error_page(f"errors.{exc.code}", 404, exc.data)
    return error_page(f"errors.{exc.code}", 409, exc.data)


def _read(reader, token: str, link: str = "upload"):  # noqa: ANN001, ANN202
    try:
        return reader(token), None
    except SignatureExpired:
        return None, error_page("pages.link_expired", 410, {"link": link})
    except BadSignature:
        return None, error_page("pages.link_invalid", 403, {"link": link})


@bp.app_errorhandler(DomainError)
def _unhandled_refusal(exc: DomainError) -> Response:
    """A refusal no page caught itself still gets its page, never a server error."""
    return refusal_page(exc)


def receive_upload(template: str, context: dict[str, Any], *, target: intake.Target, actor: str) -> Response:
    """The POST half of every upload page: size cap, the one intake, then the page that says what happened."""
    rt = _rt()
    settings, now = rt.settings, rt.clock()
    rules = intake.rules(settings, target)
    limit = rules.max_bytes + FORM_OVERHEAD
    refused = {"code": "too_large", "item": rules.label, "kinds": list(rules.kinds), "max_mb": rules.max_mb,
               "filename": "", "detected": "", "reason": ""}
    kind = "complaint.evidence_rejected" if target.kind == "evidence" else "apply.file_rejected"
    if request.content_length is not None and request.content_length > limit:
        return page(template, 413, **context, problem=_plain(kind, **refused))
    request.max_content_length = limit
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return page(template, 400, **context, problem=_plain("pages.no_file"))
    try:
        with rt.sessions.begin() as s:
            done = intake.accept(s, settings, rt.services["documents"], target=target, stream=upload_file.stream,
                                 filename=upload_file.filename, source="page", actor=actor, now=now)
    except DocumentRejected as exc:
        kind, data = intake.refusal(settings, target, exc, upload_file.filename)
        return page(template, 422, **context, problem=_plain(kind, **data))
    except DomainError as exc:
        return refusal_page(exc, link=template, who=actor)
    finally:
        upload_file.close()
    return page(f"{template}_done", item=context.get("item"), filename=done.filename, size=done.size)


@bp.route("/upload/<token>", methods=["GET", "POST"])
def upload(token: str) -> Response:
    """Show the upload form for one material item (application or 补正), or receive the file."""
    rt = _rt()
    data, refused = _read(rt.services["links"].read_upload, token)
    if refused:
        return refused
    settings, now = rt.settings, rt.clock()
    target = intake.Target("material", int(data["a"]), str(data["i"]))
    with rt.sessions() as s:
        try:
            deadline = intake.check(s, settings, target, actor=data["u"], now=now)
            app = apply.get(s, settings, target.id)
        except DomainError as exc:
            refused = exc
        else:
            refused = None
            item = settings.award.material(target.item_key)
            current = apply.current_documents(app).get(item.key)
            if current is not None:
                s.expunge(current)
            context = {"item": item, "current": current, "number": app.number, "token": token,
                       "enterprise": app.enterprise_name or "", "accept": intake.rules(settings, target).accept,
                       "deadline": deadline}
    if refused is not None:
        return refusal_page(refused, who=str(data["u"]))
    if request.method == "GET":
        return page("upload", **context)
    return receive_upload("upload", context, target=target, actor=data["u"])


def _viewable(token: str):  # noqa: ANN202
    rt = _rt()
    data, refused = _read(rt.services["links"].read_view, token, "materials")
    if refused:
        return None, None, refused
    s = rt.sessions()
    try:
        app = apply.get(s, rt.settings, int(data["a"]))
    except DomainError as exc:
        s.close()
        return None, None, refusal_page(exc, link="materials")
    # Checked on every request: a member removed from the roster loses access at once.
    if not apply.may_view_documents(s, rt.settings, data["u"], app):
        s.close()
        return None, None, error_page("pages.not_allowed", 403)
    return s, app, None


@bp.get("/materials/<token>")
def materials(token: str) -> Response:
    """A read-only list of an application's current materials (apply.current_documents)."""
    s, app, refused = _viewable(token)
    if refused:
        return refused
    with s:
        docs = sorted(apply.current_documents(app).values(), key=lambda d: d.id)
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
    problem = None
    with s:
        # Only a current document is served: a replaced draft or a rejected file is not (apply.current_documents).
        doc = next((d for d in apply.current_documents(app).values() if d.id == doc_id), None)
        if doc is None:
            return error_page("pages.no_such_file", 404)
        s.expunge(doc)
        try:
            # Read whole (≤ the item's size cap) so the SHA-256 is verified before a byte is sent.
            content = _rt().services["documents"].read_bytes(doc.sha256, doc.size)
        except DocumentMissing:
            problem = ("missing", 410)
        except DocumentCorrupted:
            problem = ("corrupted", 409)
    if problem is not None:  # reported in a transaction of its own, after the reading one ended
        _report_unavailable(doc, problem[0])
        return error_page("pages.file_unavailable", problem[1], {"reason": problem[0], "name": doc.original_name})
    resp = send_file(io.BytesIO(content), mimetype=KINDS[doc.kind].mime, as_attachment=True,
                     download_name=doc.original_name, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _report_unavailable(doc: Document, reason: str) -> None:
    """A stored file is gone or damaged: audit it and tell the secretariat (once per document and reason)."""
    rt = _rt()
    now = rt.clock()
    with rt.sessions.begin() as s:
        subject = f"document:{doc.id}"
        if any(e.details.get("reason") == reason for e in audit.entries(s, action="document.unavailable",
                                                                         subject=subject)):
            return
        audit.record(s, actor="system", action="document.unavailable", subject=subject, now=now, reason=reason,
                     sha256=doc.sha256, application_id=doc.application_id)
        app = s.get(Application, doc.application_id)
        secretariat = [p.userid for p in people.with_role(s, "secretariat")]
        if secretariat and app is not None:
            notices.notify(s, secretariat, "pages.file_unavailable_report", now=now, reason=reason,
                           name=doc.original_name, number=app.number or "", enterprise=app.enterprise_name or "",
                           sha256=doc.sha256)

