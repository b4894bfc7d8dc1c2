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
from workflows.core import access, audit
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


def _refuse(attempt: int, status: int, view: channels.PageView, cookie: str, values: dict[str, str],
            phone_key: str | None, code: str, problem: str) -> Response:
    rt = _rt()
    with rt.sessions.begin() as s:
        channels.settle_attempt(s, attempt, phone_key=phone_key, outcome=f"refused:{code}")
    return _render(status, view, cookie or secrets.token_urlsafe(24), values=values, problem=problem)


def _limit() -> int:
    return limits.complaint_form(_rt().settings)


class _PhoneLimited(Exception):
    """The phone's daily limit was reached by a complaint lodged meanwhile (found in the lodging transaction)."""


@bp.post("/complaints")
def complaint_submit() -> Response:
    """Count the submission against its address, refuse an oversized body unread, then check the form and its
    defences and lodge the complaint with its evidence in one transaction."""
    rt = _rt()
    settings = rt.settings
    view = _view()
    cookie = _cookie_value()
    ip_key = _key("ip", request.remote_addr or "")
    with rt.sessions.begin() as s:  # counted and recorded in one transaction (docs/reach.md), before any parsing
        attempt, within = channels.admit(s, settings, ip_key=ip_key, now=rt.clock())
    rate_limited = _public("pages.complaint_rate_limited", by="ip", phone=settings.award.secretariat.phone)
    if not within:
        return _render(429, view, cookie or secrets.token_urlsafe(24), problem=rate_limited)
    too_large = _public("pages.complaint_too_large", max_files=settings.complaint_page.max_files,
                        max_mb=settings.award.rules.complaint_evidence_max_mb)
    if request.content_length is not None and request.content_length > _limit():
        return _refuse(attempt, 413, view, cookie, {}, None, "too_large", too_large)
    request.max_content_length = _limit()  # a body without a length is cut at the limit while it is read
    try:
        form = request.form
        uploads = [f for f in request.files.getlist("files") if f.filename]
    except RequestEntityTooLarge:
        return _refuse(attempt, 413, view, cookie, {}, None, "too_large", too_large)
    values = {k: str(form.get(k) or "")[:4000] for k in FIELDS}
    anonymous = form.get("anonymous") == "1"
    phone_key = _key("phone", "".join(ch for ch in values["phone"] if ch.isdigit())) \
        if values["phone"].strip() and not anonymous else None

    def refuse(status: int, code: str, problem: str, refused_view: channels.PageView | None = None) -> Response:
        return _refuse(attempt, status, refused_view or view, cookie, values, phone_key, code, problem)
    try:
        if not cookie or not hmac.compare_digest(str(form.get("csrf") or ""), _key("csrf", cookie)):
            return refuse(403, "csrf", _public("pages.complaint_form_stale"))
        if view.state != "open":
            closed = ("errors.publicity_not_started", {}) if view.state == "not_started" \
                else ("errors.complaint_window_closed", {"state": view.state, **view.window})
            return refuse(409, "closed", _public(closed[0], **closed[1]))
        phone_limit = _public("pages.complaint_rate_limited", by="phone", phone=settings.award.secretariat.phone)
        with rt.sessions() as s:
            limited = channels.phone_limited(s, settings, phone_key=phone_key, now=rt.clock())
        if limited:
            return refuse(429, "rate_phone", phone_limit)
        if form.get(HONEYPOT):
            return refuse(400, "honeypot", _public("pages.complaint_refused"))
        try:
            nonce = read_challenge(str(form.get("form_token") or ""), str(form.get("answer") or ""))
        except ValueError as exc:
            return refuse(400, f"challenge_{exc}", _public("pages.complaint_challenge", reason=str(exc)))
        with rt.sessions() as s:
            done = channels.lodged_from_form(s, nonce)
        if done is not None:
            return _repeat(attempt, phone_key, done)
        if len(uploads) > settings.complaint_page.max_files:
            return refuse(400, "too_many_files",
                          _public("pages.complaint_too_many_files", max_files=settings.complaint_page.max_files))
        target = next((w["id"] for w in view.winners if w["number"] == values["enterprise"].strip()), 0)
        current = ""
        try:
            with rt.sessions.begin() as s:
                audit.lock_first(s)  # lodgings one at a time (SQLite: always), so the phone limit re-checked holds
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
                if channels.phone_limited(s, settings, phone_key=phone_key, now=now):  # lodged meanwhile
                    raise _PhoneLimited
                channels.settle_attempt(s, attempt, phone_key=phone_key, outcome=channels.LODGED,
                                        complaint_id=draft.id, form_nonce=nonce)
                lodged = draft.id
        except _PhoneLimited:
            return refuse(429, "rate_phone", phone_limit)
        except DocumentRejected as exc:  # nothing was kept: the complaint and every file are rolled back
            kind, data = intake.refusal(settings, intake.Target("evidence", 0), exc, current)
            return refuse(422, f"file_{exc.code}", _public(kind, **data) + " " + _public("pages.complaint_files_again"))
        except DomainError as exc:
            status = 409 if exc.code == "complaint_window_closed" else 400
            return refuse(status, exc.code, _public(f"errors.{exc.code}", **exc.data), _view())
        except IntegrityError:  # the same form lodged at the same moment by a second request
            with rt.sessions() as s:
                done = channels.lodged_from_form(s, nonce)
            if done is None:
                raise
            return _repeat(attempt, phone_key, done)
    finally:
        for upload in uploads:
            upload.close()
    return redirect(receipt_url(lodged), code=303)


def _repeat(attempt: int, phone_key: str | None, lodged: int) -> Response:
    """The same served form sent again (a reload, a double tap): its complaint's receipt, nothing new lodged."""
    rt = _rt()
    with rt.sessions.begin() as s:
        channels.settle_attempt(s, attempt, phone_key=phone_key, outcome="repeat")
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
