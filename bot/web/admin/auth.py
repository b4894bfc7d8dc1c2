"""Signing in to the workbench with WeCom (no passwords), the session cookie, CSRF tokens and logout.

Inside the WeCom client the member goes through OAuth (网页授权, `[wecom] oauth_base_url`); on a desktop
through WeCom's web login (QR code, `[wecom] login_base_url`).  Both come back to `/admin/auth/callback`
with a one-time `code` and our `state`; `auth/getuserinfo` names the member.  The session is a signed
cookie (HttpOnly, SameSite=Lax so the redirect back from WeCom carries the state cookie, Secure when
`public_url` is https) scoped to `/admin`, holding the userid, a CSRF token and two times: it ends after
`session_idle_minutes` without a request and `session_max_hours` after signing in.  The roster is read on
every request, so a member removed from it loses the workbench at his next click.
"""
from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Response, g, redirect, request
from itsdangerous import BadSignature, URLSafeSerializer

from workflows.core import access, audit, people

from ...wecom.client import WeComError
from .render import page, rt

SESSION_COOKIE = "awardbot_admin"
STATE_COOKIE = "awardbot_admin_state"
PATH = "/admin"
STATE_MINUTES = 10
WECOM_CLIENT = "wxwork"   # WeCom's in-app browser names itself in its User-Agent


@dataclass(frozen=True)
class Signed:
    """The member behind a request: userid, roster snapshot, gate role and the session's CSRF token."""

    userid: str
    name: str
    role: str
    csrf: str


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(rt().settings.server.secret_key, salt=salt)


def _secure() -> bool:
    return rt().settings.server.public_url.startswith("https://")


def _set(resp: Response, name: str, value: str, max_age: int) -> None:
    resp.set_cookie(name, value, max_age=max_age, path=PATH, httponly=True, samesite="Lax", secure=_secure())


def _clear(resp: Response, name: str) -> None:
    resp.delete_cookie(name, path=PATH, httponly=True, samesite="Lax", secure=_secure())


def _now() -> int:
    return int(rt().clock().timestamp())


def _read(name: str, salt: str) -> dict[str, Any] | None:
    raw = request.cookies.get(name)
    if not raw:
        return None
    try:
        data = _serializer(salt).loads(raw)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def redirect_uri() -> str:
    """Where WeCom sends the member back (must be on the app's trusted domain: `public_url`)."""
    return rt().settings.server.public_url.rstrip("/") + PATH + "/auth/callback"


def _safe_next(value: str | None) -> str:
    """Only our own pages: a path under /admin, never another host."""
    if value and value.startswith(PATH + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PATH + "/"


def wecom_url(via: str, state: str) -> str:
    """The OAuth (inside the WeCom client) or web-login (desktop, QR code) address for this state."""
    w = rt().settings.wecom
    if via == "oauth":
        query = urlencode({"appid": w.corp_id, "redirect_uri": redirect_uri(), "response_type": "code",
                           "scope": "snsapi_base", "state": state, "agentid": w.agent_id})
        return f"{w.oauth_base_url}/connect/oauth2/authorize?{query}#wechat_redirect"
    query = urlencode({"login_type": "CorpApp", "appid": w.corp_id, "agentid": w.agent_id,
                       "redirect_uri": redirect_uri(), "state": state})
    return f"{w.login_base_url}/wwlogin/sso/login?{query}"


def login_page() -> Response:
    """The sign-in page; inside the WeCom client it goes straight to OAuth (the member is already known)."""
    nxt = _safe_next(request.args.get("next"))
    if WECOM_CLIENT in request.headers.get("User-Agent", "").lower():
        return start("oauth", nxt)
    return page("login", next=nxt, reason=request.args.get("reason", ""))


def start(via: str, nxt: str) -> Response:
    """Remember a fresh `state` (and where to go afterwards) in a short cookie, then go to WeCom."""
    state = secrets.token_hex(16)   # WeCom allows a-zA-Z0-9, at most 128 bytes
    resp = redirect(wecom_url("oauth" if via == "oauth" else "qr", state), code=302)
    _set(resp, STATE_COOKIE, _serializer("awardbot.admin.state").dumps(
        {"state": state, "next": _safe_next(nxt), "t": _now()}), STATE_MINUTES * 60)
    return resp


def _refusal(kind: str, status: int, **data: Any) -> Response:
    resp = page("refused", status=status, kind=kind, **data)
    _clear(resp, STATE_COOKIE)
    return resp


def callback() -> Response:
    """Back from WeCom: check `state`, exchange the code, check the roster, start the session."""
    saved = _read(STATE_COOKIE, "awardbot.admin.state")
    given = request.args.get("state", "")
    if (saved is None or not given or _now() - int(saved.get("t", 0)) > STATE_MINUTES * 60
            or not hmac.compare_digest(str(saved.get("state", "")), given)):
        return _refusal("state", 400)
    code = request.args.get("code")
    if not code:
        return _refusal("cancelled", 400)
    runtime = rt()
    try:  # outside any transaction: no transaction spans an HTTP call
        info = runtime.client.call("get", "auth/getuserinfo", params={"code": code[:512]})
    except WeComError as exc:
        return _refusal("code" if exc.errcode == 40029 else "wecom", 400 if exc.errcode == 40029 else 502)
    userid = str(info.get("userid") or "")
    now = runtime.clock()
    with runtime.sessions.begin() as s:
        member = people.member(s, userid) if userid and userid not in access.SYSTEM_ACTORS else None
        role = access.role_of(s, userid) if member else access.INACTIVE
        if member is None or not any(access.may_see(role, v) for v in access.WORKBENCH_VIEWS):
            audit.record(s, actor=userid or "visitor", action="admin.signin_refused", subject="admin", now=now,
                         reason="not_member" if not userid else ("not_on_roster" if member is None else "no_pages"))
            return _refusal("not_member" if not userid else ("roster" if member is None else "no_pages"), 403)
        audit.record(s, actor=userid, action="admin.signin", subject="admin", now=now)
    resp = redirect(_safe_next(saved.get("next")), code=302)
    _clear(resp, STATE_COOKIE)
    t = _now()
    _set(resp, SESSION_COOKIE, _serializer("awardbot.admin.session").dumps(
        {"u": userid, "c": secrets.token_urlsafe(24), "s": t, "a": t}),
        runtime.settings.server.session_max_hours * 3600)
    return resp


def current() -> tuple[Signed | None, str]:
    """The signed-in member of this request and why not ('', 'none', 'expired', 'removed')."""
    data = _read(SESSION_COOKIE, "awardbot.admin.session")
    if data is None or not isinstance(data.get("u"), str):
        return None, "none"
    server = rt().settings.server
    t = _now()
    if t - int(data.get("a", 0)) > server.session_idle_minutes * 60 or \
            t - int(data.get("s", 0)) > server.session_max_hours * 3600:
        return None, "expired"
    with rt().sessions() as s:
        member = people.member(s, data["u"])
        role = access.role_of(s, data["u"]) if member else access.INACTIVE
    if member is None:
        return None, "removed"
    g.admin_session = data
    return Signed(member.userid, member.name, role, str(data.get("c", ""))), ""


def touch(resp: Response) -> Response:
    """Slide the idle timeout: re-issue the session cookie with this request's time."""
    data = getattr(g, "admin_session", None)
    if data is not None and not getattr(g, "signed_out", False):
        t = _now()
        remaining = rt().settings.server.session_max_hours * 3600 - (t - int(data["s"]))
        _set(resp, SESSION_COOKIE, _serializer("awardbot.admin.session").dumps({**data, "a": t}), max(remaining, 1))
    return resp


def csrf_ok(member: Signed) -> bool:
    """Whether the form carries this session's CSRF token (constant-time compare)."""
    given = request.form.get("csrf", "")
    return bool(given) and hmac.compare_digest(given, member.csrf)


def logout(member: Signed) -> Response:
    """End the session (the cookie is removed; signing in again needs WeCom)."""
    with rt().sessions.begin() as s:
        audit.record(s, actor=member.userid, action="admin.signout", subject="admin", now=rt().clock())
    g.signed_out = True
    resp = redirect(PATH + "/login?reason=signed_out", code=303)
    _clear(resp, SESSION_COOKIE)
    return resp


def now() -> dt.datetime:
    """The runtime's clock (tests freeze it)."""
    return rt().clock()
