"""The stand-in's sign-in: OAuth inside the WeCom client, the desktop web login, and `auth/getuserinfo`.

Real WeCom asks nothing when a member opens an OAuth link in its client (snsapi_base) and shows a QR code on
the desktop login page.  The stand-in shows a page instead where the tester picks who signs in (or a visitor
outside the corp, or cancels), then redirects to `redirect_uri?code=CODE&state=STATE` as WeCom does.  A code is
good for one `auth/getuserinfo` within five minutes (40029 otherwise), as WeCom's documentation says.
"""
from __future__ import annotations

import html
import secrets
import threading
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode

from flask import Flask, Response, redirect, request

from bot.simulator import errcodes as E

CODE_TTL = 300
MEMBER_COOKIE = "wecom_sim_member"   # set by the simulator page when a member opens a link on his phone
INVALID_CODE = 40029


@dataclass
class _Code:
    userid: str | None   # None: a visitor outside the corp (getuserinfo answers an openid)
    issued_at: float
    used: bool = False


class SignIn:
    """Both sign-in flows and the code exchange; `choices` are the members offered on the picker page."""

    def __init__(self, *, corp_id: str, agent_id: int, now: Callable[[], float]) -> None:
        self.corp_id, self.agent_id, self.now = corp_id, int(agent_id), now
        self.choices: list[tuple[str, str]] = []
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()

    def register(self, app: Flask) -> None:
        """Add the authorize, web-login and picker routes to the stand-in's app."""
        app.add_url_rule("/connect/oauth2/authorize", "oauth_authorize", self._authorize, methods=["GET"])
        app.add_url_rule("/wwlogin/sso/login", "web_login", self._web_login, methods=["GET"])
        app.add_url_rule("/_sim/signin", "sim_signin", self._pick, methods=["POST"])

    # --- codes ---------------------------------------------------------------------------------------
    def issue_code(self, userid: str | None) -> str:
        """A fresh one-time code for a member (or, with None, for a visitor outside the corp)."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(userid, self.now())
        return code

    def getuserinfo(self, code: str | None) -> dict:
        """The `auth/getuserinfo` answer: userid for a member, openid for a visitor, 40029 for a bad code."""
        with self._lock:
            found = self._codes.get(code or "")
            if found is None or found.used or self.now() - found.issued_at > CODE_TTL:
                return E.error_body(INVALID_CODE, "invalid code")
            found.used = True
        if found.userid is None:
            return {"errcode": 0, "errmsg": "ok", "openid": "o" + secrets.token_hex(8), "external_userid": ""}
        return {"errcode": 0, "errmsg": "ok", "userid": found.userid}

    # --- pages -----------------------------------------------------------------------------------------
    def _authorize(self) -> Response:
        a = request.args
        if a.get("appid") != self.corp_id or a.get("response_type") != "code" or not a.get("redirect_uri"):
            return _page("参数错误", "<p>appid、response_type 或 redirect_uri 不正确。</p>", 400)
        if a.get("agentid") and a.get("agentid") != str(self.agent_id):
            return _page("参数错误", "<p>agentid 不正确。</p>", 400)
        member = request.cookies.get(MEMBER_COOKIE, "")
        if member and a["redirect_uri"].startswith(("http://", "https://")):  # opened on a member's phone in the simulator page: the client knows who, asks nothing
            resp = _back(a["redirect_uri"], {"code": self.issue_code(member), "state": a.get("state", "")})
            resp.delete_cookie(MEMBER_COOKIE)
            return resp
        return self._picker("企业微信网页授权（模拟）", a["redirect_uri"], a.get("state", ""))

    def _web_login(self) -> Response:
        a = request.args
        if (a.get("login_type") != "CorpApp" or a.get("appid") != self.corp_id
                or a.get("agentid") != str(self.agent_id) or not a.get("redirect_uri")):
            return _page("参数错误", "<p>login_type、appid、agentid 或 redirect_uri 不正确。</p>", 400)
        return self._picker("企业微信扫码登录（模拟）", a["redirect_uri"], a.get("state", ""))

    def _picker(self, title: str, redirect_uri: str, state: str) -> Response:
        hidden = (f'<input type="hidden" name="redirect_uri" value="{html.escape(redirect_uri)}">'
                  f'<input type="hidden" name="state" value="{html.escape(state)}">')
        buttons = "".join(
            f'<li><button name="userid" value="{html.escape(u)}">{html.escape(label)}（{html.escape(u)}）</button></li>'
            for u, label in self.choices)
        body = (f'<p>真实的企业微信会在这里识别成员（客户端内）或显示二维码（桌面）。请选择以谁的身份登录：</p>'
                f'<form method="post" action="/_sim/signin">{hidden}<ul>{buttons}</ul>'
                f'<p><label>其他成员 userid：<input name="other" id="other"></label> '
                f'<button name="userid" value="" id="as-other">以此身份登录</button></p>'
                f'<p><button name="visitor" value="1" id="visitor">非企业成员</button> '
                f'<button name="cancel" value="1" id="cancel">取消登录</button></p></form>')
        return _page(title, body, 200)

    def _pick(self) -> Response:
        f = request.form
        target = f.get("redirect_uri", "")
        if not target.startswith(("http://", "https://")):
            return _page("参数错误", "<p>redirect_uri 不正确。</p>", 400)
        params = {"state": f.get("state", "")}
        if not f.get("cancel"):
            userid = None if f.get("visitor") else (f.get("userid") or f.get("other", "")).strip()
            if userid == "":
                return _page("参数错误", "<p>请选择或填写一个 userid。</p>", 400)
            params = {"code": self.issue_code(userid), **params}
        return _back(target, params)


def _back(target: str, params: dict[str, str]) -> Response:
    """Back to the page that asked, with `code` and `state` as WeCom adds them."""
    return redirect(target + ("&" if "?" in target else "?") + urlencode(params), code=302)


def _page(title: str, body: str, status: int) -> Response:
    text = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>'
            f'<body style="font-family:sans-serif;max-width:34rem;margin:1rem auto;padding:0 1rem">'
            f'<h1 style="font-size:1.2rem">{title}</h1>{body}</body></html>')
    return Response(text, status=status, mimetype="text/html")
