"""GET/POST /complaints: the public complaint page (no WeCom needed), and its receipt page.

During the notice it lists the enterprises under notice and takes a complaint with evidence files; outside
the window it says the channel is closed and when the notice runs. Defences without outside services
(docs/reach.md): a CSRF token bound to a SameSite cookie, a honeypot field, an arithmetic challenge signed
into the form, one lodging per served form, and limits per address and per phone (ComplaintAttempt).
Files go through `workflows.intake` like every upload; the complaint ends in `complaints.lodge`, so the
secretariat gets the same notice as for a chat complaint.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from flask import Blueprint, Response, redirect, request
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from workflows import intake
from workflows.core import access
from workflows.core.errors import DomainError
from workflows.documents.store import DocumentRejected
from workflows.publicity import channels, complaints as complaint_flow
from workflows.publicity.models import Complaint
from workflows.publicity.notice import complaint_page_url

from . import limits
from .pages import PUBLIC, _plain, _rt, error_page, page

bp = Blueprint("complaints", __name__)
COOKIE = "awardbot_complaint_form"
FORM_SALT, RECEIPT_SALT = "awardbot.complaint-form", "awardbot.complaint-receipt"
RECEIPT_HOURS = 24
FIELDS = ("name", "phone", "enterprise", "content")
HONEYPOT = "website"


def _public(kind: str, **data: Any) -> str:
    """A message for the complaint page, in the words for a member of the public (no chat to go back to)."""
    return _plain(kind, reader=PUBLIC, **data)


def _key(purpose: str, value: str) -> str:
    """An HMAC of a value under the server's secret (how addresses and phones are kept for the limits)."""
    secret = _rt().settings.server.secret_key.encode()
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _serializer(salt: str) -> URLSafeTimedSerializer:
    rt = _rt()
    signer = type("ClockSigner", (TimestampSigner,), {"get_timestamp": lambda _self: int(rt.clock().timestamp())})
    return URLSafeTimedSerializer(rt.settings.server.secret_key, salt=salt, signer=signer)


def new_challenge() -> tuple[str, str]:
    """(question, signed form token): a small sum whose answer only the server can check, and the form's nonce."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    nonce = secrets.token_hex(16)
    token = _serializer(FORM_SALT).dumps({"n": nonce, "x": _key("answer", f"{nonce}:{a + b}")})
    return f"{a} + {b}", token


def read_challenge(token: str, answer: str) -> str:
    """The form's nonce if the token is ours, fresh and the answer right; raises ValueError('expired'|'wrong')."""
    try:
        data = _serializer(FORM_SALT).loads(token, max_age=_rt().settings.complaint_page.form_minutes * 60)
    except SignatureExpired:
        raise ValueError("expired") from None
    except BadSignature:
        raise ValueError("wrong") from None
    nonce = str(data.get("n") or "")
    answer = answer.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not nonce or not hmac.compare_digest(_key("answer", f"{nonce}:{answer}"), str(data.get("x") or "")):
        raise ValueError("wrong")
    return nonce


def _cookie_value() -> str:
    value = request.cookies.get(COOKIE, "")
    return value if 16 <= len(value) <= 64 else ""


def _render(status: int, view: channels.PageView, cookie: str, *, values: dict[str, str] | None = None,
            problem: str | None = None) -> Response:
    """The page: the closed notice, or the form with a fresh challenge (values kept after a refusal)."""
    rt = _rt()
    context: dict[str, Any] = {"view": view, "secretariat": rt.settings.award.secretariat,
                               "anonymous_allowed": rt.settings.award.rules.anonymous_complaints,
                               "rules": intake.rules(rt.settings, intake.Target("evidence", 0)),
                               "max_files": rt.settings.complaint_page.max_files,
                               "values": {k: "" for k in FIELDS} | (values or {}), "action": "/complaints"}
    if problem is not None:
        context["problem"] = problem
    if view.state == "open":
        question, token = new_challenge()
        context |= {"question": question, "form_token": token, "csrf": _key("csrf", cookie)}
    resp = page("complaints", status, **context)
    if view.state == "open":
        secure = rt.settings.server.public_url.startswith("https://")
        resp.set_cookie(COOKIE, cookie, max_age=rt.settings.complaint_page.form_minutes * 60, httponly=True,
                        samesite="Strict", secure=secure, path="/complaints")
    return resp


def _view() -> channels.PageView:
    rt = _rt()
    with rt.sessions() as s:
        return channels.page_view(s, rt.settings, now=rt.clock())


@bp.get("/complaints")
def complaint_form() -> Response:
    """The notice, the enterprises under it and the form — or that complaints are closed and when they run."""
    return _render(200, _view(), _cookie_value() or secrets.token_urlsafe(24))


def _refuse(status: int, view: channels.PageView, cookie: str, values: dict[str, str], ip_key: str,
            phone_key: str | None, code: str, problem: str) -> Response:
    rt = _rt()
    with rt.sessions.begin() as s:
        channels.record_attempt(s, ip_key=ip_key, phone_key=phone_key, outcome=f"refused:{code}", now=rt.clock())
    return _render(status, view, cookie or secrets.token_urlsafe(24), values=values, problem=problem)


def _limit() -> int:
    return limits.complaint_form(_rt().settings)


@bp.post("/complaints")
def complaint_submit() -> Response:
    """Check the form and its defences, then lodge the complaint with its evidence in one transaction."""
    rt = _rt()
    settings = rt.settings
    view = _view()
    cookie = _cookie_value()
    ip_key = _key("ip", request.remote_addr or "")
    if request.content_length is not None and request.content_length > _limit():
        return _refuse(413, view, cookie, {}, ip_key, None, "too_large", _public("pages.complaint_too_large",
                       max_files=settings.complaint_page.max_files,
                       max_mb=settings.award.rules.complaint_evidence_max_mb))
    request.max_content_length = _limit()
    try:
        form = request.form
        uploads = [f for f in request.files.getlist("files") if f.filename]
    except RequestEntityTooLarge:
        return _refuse(413, view, cookie, {}, ip_key, None, "too_large", _public("pages.complaint_too_large",
                       max_files=settings.complaint_page.max_files,
                       max_mb=settings.award.rules.complaint_evidence_max_mb))
    values = {k: str(form.get(k) or "")[:4000] for k in FIELDS}
    anonymous = form.get("anonymous") == "1"
    phone_key = _key("phone", "".join(ch for ch in values["phone"] if ch.isdigit())) \
        if values["phone"].strip() and not anonymous else None
    try:
        if not cookie or not hmac.compare_digest(str(form.get("csrf") or ""), _key("csrf", cookie)):
            return _refuse(403, view, cookie, values, ip_key, phone_key, "csrf", _public("pages.complaint_form_stale"))
        if view.state != "open":
            closed = ("errors.publicity_not_started", {}) if view.state == "not_started" \
                else ("errors.complaint_window_closed", {"state": view.state, **view.window})
            return _refuse(409, view, cookie, values, ip_key, phone_key, "closed", _public(closed[0], **closed[1]))
        with rt.sessions() as s:
            limited = channels.rate_limited(s, settings, ip_key=ip_key, phone_key=phone_key, now=rt.clock())
        if limited:
            return _refuse(429, view, cookie, values, ip_key, phone_key, f"rate_{limited}",
                           _public("pages.complaint_rate_limited", by=limited, phone=settings.award.secretariat.phone))
        if form.get(HONEYPOT):
            return _refuse(400, view, cookie, values, ip_key, phone_key, "honeypot", _public("pages.complaint_refused"))
        try:
            nonce = read_challenge(str(form.get("form_token") or ""), str(form.get("answer") or ""))
        except ValueError as exc:
            return _refuse(400, view, cookie, values, ip_key, phone_key, f"challenge_{exc}",
                           _public("pages.complaint_challenge", reason=str(exc)))
        with rt.sessions() as s:
            done = channels.lodged_from_form(s, nonce)
        if done is not None:
            return redirect(receipt_url(done), code=303)
        if len(uploads) > settings.complaint_page.max_files:
            return _refuse(400, view, cookie, values, ip_key, phone_key, "too_many_files",
                           _public("pages.complaint_too_many_files", max_files=settings.complaint_page.max_files))
        target = next((w["id"] for w in view.winners if w["number"] == values["enterprise"].strip()), 0)
        current = ""
        try:
            with rt.sessions.begin() as s:
                now = rt.clock()
                draft = channels.file_public(s, settings, actor=access.PUBLIC, now=now, application_id=target,
                                             content=values["content"], real_name=values["name"],
                                             phone=values["phone"], anonymous=anonymous)
                for upload in uploads:
                    current = upload.filename or ""
                    intake.accept(s, settings, rt.services["documents"], target=intake.Target("evidence", draft.id),
                                  stream=upload.stream, filename=upload.filename, source="web", actor=access.PUBLIC,
                                  now=now)
                complaint_flow.lodge(s, settings, draft, now=now)
                channels.record_attempt(s, ip_key=ip_key, phone_key=phone_key, outcome=channels.LODGED, now=now,
                                        complaint_id=draft.id, form_nonce=nonce)
                lodged = draft.id
        except DocumentRejected as exc:  # nothing was kept: the complaint and every file are rolled back
            kind, data = intake.refusal(settings, intake.Target("evidence", 0), exc, current)
            return _refuse(422, view, cookie, values, ip_key, phone_key, f"file_{exc.code}", _public(kind, **data)
                           + " " + _public("pages.complaint_files_again"))
        except DomainError as exc:
            status = 409 if exc.code == "complaint_window_closed" else 400
            return _refuse(status, _view(), cookie, values, ip_key, phone_key, exc.code,
                           _public(f"errors.{exc.code}", **exc.data))
        except IntegrityError:  # the same form lodged at the same moment by a second request
            with rt.sessions() as s:
                done = channels.lodged_from_form(s, nonce)
            if done is None:
                raise
            return redirect(receipt_url(done), code=303)
    finally:
        for upload in uploads:
            upload.close()
    return redirect(receipt_url(lodged), code=303)


def receipt_url(complaint_id: int) -> str:
    """The receipt page of a lodged complaint (signed, so a number is not enough to read it)."""
    return f"/complaints/received/{_serializer(RECEIPT_SALT).dumps({'c': complaint_id})}"


@bp.get("/complaints/received/<token>")
def receipt(token: str) -> Response:
    """The answer page: the complaint number and what happens next."""
    rt = _rt()
    try:
        data = _serializer(RECEIPT_SALT).loads(token, max_age=RECEIPT_HOURS * 3600)
    except SignatureExpired:
        return error_page("pages.complaint_receipt_expired", 410, reader=PUBLIC)
    except BadSignature:
        return error_page("pages.link_invalid", 403, {"link": "receipt"}, reader=PUBLIC)
    with rt.sessions() as s:
        c = s.get(Complaint, int(data.get("c") or 0))
        if c is None or c.channel != channels.WEB or not c.number:
            return error_page("pages.link_invalid", 404, {"link": "receipt"}, reader=PUBLIC)
        info = complaint_flow.complaint_data(s, c)
    return page("complaints_done", complaint=info, secretariat=rt.settings.award.secretariat,
                page_url=complaint_page_url(rt.settings))
