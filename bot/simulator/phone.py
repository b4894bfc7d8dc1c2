"""The simulator page: the WeCom client in a browser, one phone per member, served at the stand-in's root.

What the page shows comes only from the stand-in's own state: its directory and what the bot sent it
(message/send, update_template_card). What a member does there — typing, pressing a card's button, ticking and
submitting a vote card, sending a file, opening the app or its menu — reaches the bot as the encrypted callback
WeCom would post (`CallbackClient`, the same the terminal chat uses), never around it. The page's own words live
in `static/phone.html`; the JSON answers here carry codes the page turns into words.
"""
from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import Any, NoReturn

import requests
from flask import Flask, Response, jsonify, redirect, request

from bot.simulator.callbacks import CallbackClient
from bot.simulator.signin import MEMBER_COOKIE, SignIn
from bot.simulator.state import ApiError, WeComState, content_disposition

STATIC = Path(__file__).with_name("static")
ASSETS = {"phone.html": "text/html", "phone.js": "text/javascript", "draw.js": "text/javascript",
          "phone.css": "text/css"}
USERID_MAX = 128          # a linked-corp member's "CorpID/UserID" is longer than WeCom's 64-byte userid
TEXT_MAX = 2048           # bytes in one text message (WeCom cuts longer ones)
FILE_MAX = {"image": 10 << 20, "file": 20 << 20}   # WeCom's media limits (WECOM.md §4.4)
FILE_MIN = 6              # "every file > 5 bytes"
IMAGE_TYPES = {"image/jpeg", "image/png"}
WAIT_MAX = 25.0           # seconds a long poll may wait
_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\s]*\)")
_MARKUP = re.compile(r"</?(?:font|a)\b[^>]*>|\*\*|`|^#{1,6}\s|^>\s?", re.I | re.M)
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}


class Refused(Exception):
    """A page request the simulator turns down: a code the page has words for, and an HTTP status."""

    def __init__(self, code: str, status: int = 400, **detail: Any):
        super().__init__(code)
        self.code, self.status, self.detail = code, status, detail


class Phone:
    """The page and its endpoints; `connect` it to the bot's webhook before members can write."""

    def __init__(self, state: WeComState, signin: SignIn):
        self.state, self.signin = state, signin
        self.callbacks: CallbackClient | None = None
        self.app_name = ""        # the app's name in the client's title bar (the page has a default)
        self.menu: list[dict] = []  # the app's menu as WeCom's menu/create takes it: {name, type, key|url, sub_button}
        self.workbench_url = ""   # where a member with workbench pages goes (inside the client: OAuth)
        self.note = ""            # one line above the list of members (the demo: whom to try first)
        self._entered: set[str] = set()

    def connect(self, transport: Any, *, token: str, encoding_aes_key: str, path: str = "") -> CallbackClient:
        """Post members' messages to the bot at `transport` (a URL, a Flask test client or a callable)."""
        self.callbacks = CallbackClient(token, encoding_aes_key, self.state.corp_id, self.state.agent_id,
                                        transport, path=path, now=self.state.now)
        return self.callbacks

    def register(self, app: Flask) -> None:
        """Add the page and its endpoints to the stand-in's app."""
        app.add_url_rule("/", "phone_page", self._page)
        app.add_url_rule("/_sim/static/<path:name>", "phone_static", self._static)
        app.add_url_rule("/favicon.ico", "phone_icon", lambda: Response(status=204))
        app.add_url_rule("/_sim/directory", "phone_directory", self._directory)
        app.add_url_rule("/_sim/say", "phone_say", self._say, methods=["POST"])
        app.add_url_rule("/_sim/event", "phone_event", self._event, methods=["POST"])
        app.add_url_rule("/_sim/card", "phone_card", self._card, methods=["POST"])
        app.add_url_rule("/_sim/send-file", "phone_file", self._file, methods=["POST"])
        app.add_url_rule("/_sim/media/<media_id>", "phone_media", self._media)
        app.add_url_rule("/_sim/open", "phone_open", self._open)
        app.register_error_handler(Refused, _refused)

    # --- the page ----------------------------------------------------------------------------------
    def _page(self) -> Response:
        return _asset("phone.html")

    def _static(self, name: str) -> Response:
        return _asset(name)

    def _directory(self) -> Response:
        after = _number(request.args.get("after"))
        if after is not None:   # long poll: answer once anything newer than `after` arrived for anyone
            self.state.wait_any(after, min(_number(request.args.get("wait")) or 0, WAIT_MAX))
        last = self.state.conversations()
        workbench = {u for u, _ in self.signin.choices}
        members = [m | {"workbench": bool(self.workbench_url) and m["userid"] in workbench,
                        "last": _preview(last.get(m["userid"]))} for m in self.state.directory()]
        return jsonify({"app": self.app_name, "note": self.note, "connected": self.callbacks is not None,
                        "menu": self.menu, "members": members, "seq": self.state.last_seq()})

    # --- what a member does --------------------------------------------------------------------------
    def _say(self) -> Response:
        body = _json()
        userid, callbacks = self._member(body.get("userid")), self._connected()
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise Refused("empty_text")
        if len(text.encode("utf-8")) > TEXT_MAX:
            raise Refused("text_too_long", limit=TEXT_MAX)
        seq = self.state.record_sent(userid, {"msgtype": "text", "content": text})
        return self._deliver(userid, callbacks.text(userid, text), seq)

    def _event(self) -> Response:
        body = _json()
        userid, callbacks = self._member(body.get("userid")), self._connected()
        event = body.get("event")
        if event == "enter_agent":
            if userid in self._entered:   # once per run: reopening a chat does not greet again
                return jsonify({"ok": True, "sent": False})
            self._entered.add(userid)
            return self._deliver(userid, callbacks.enter_agent(userid))
        key = str(body.get("key") or "")
        if event != "click" or key not in _menu_keys(self.menu):
            raise Refused("bad_event")
        return self._deliver(userid, callbacks.click(userid, key))

    def _card(self) -> Response:
        body = _json()
        userid, callbacks = self._member(body.get("userid")), self._connected()
        task_id, key = str(body.get("task_id") or ""), str(body.get("key") or "")
        try:
            card, disabled = self.state.card_view(task_id, userid)
        except ApiError:
            raise Refused("no_card", 404) from None
        if disabled:
            raise Refused("card_done", 409)
        selected = choices(card, key, body.get("selected"))
        code = self.state.issue_response_code(task_id, userid)
        return self._deliver(userid, callbacks.template_card_event(userid, key, task_id, card["card_type"], code,
                                                                   selected), task_id=task_id)

    def _file(self) -> Response:
        if (request.content_length or 0) > FILE_MAX["file"] + 65536:
            raise Refused("file_too_big", 413, limit=FILE_MAX["file"])
        userid, callbacks = self._member(request.form.get("userid")), self._connected()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise Refused("no_file")
        name = Path(upload.filename.replace("\\", "/")).name[:200] or "file"
        ctype = mimetypes.guess_type(name)[0] or upload.mimetype or "application/octet-stream"
        kind = "image" if ctype in IMAGE_TYPES else "file"
        data = upload.read(FILE_MAX[kind] + 1)
        if len(data) > FILE_MAX[kind]:
            raise Refused("file_too_big", 413, limit=FILE_MAX[kind])
        if len(data) < FILE_MIN:
            raise Refused("file_empty")
        media = self.state.store_media(kind, name, ctype, data)
        seq = self.state.record_sent(userid, {"msgtype": kind, "media": {
            "media_id": media.media_id, "filename": name, "content_type": ctype, "size": len(data)}})
        xml = (callbacks.image(userid, media.media_id) if kind == "image"
               else callbacks.file(userid, media.media_id, name))
        return self._deliver(userid, xml, seq)

    def _media(self, media_id: str) -> Response:
        try:
            media = self.state.media(media_id)
        except ApiError:
            raise Refused("no_media", 404) from None
        inline = request.args.get("inline") == "1" and media.content_type in IMAGE_TYPES
        return _secured(_file_response(media.data, media.content_type, media.filename, inline))

    def _open(self) -> Response:
        """A link opened on a member's phone: WeCom's in-client browser knows who it is (OAuth asks nothing)."""
        url = request.args.get("url", "")
        if request.args.get("to") == "workbench":
            url = self.workbench_url
        if not url.startswith(("http://", "https://")):
            raise Refused("bad_link")
        userid = self._member(request.args.get("userid"))
        resp = redirect(url, code=302)
        resp.set_cookie(MEMBER_COOKIE, userid, max_age=120, httponly=True, samesite="Lax")
        return resp

    # --- helpers -------------------------------------------------------------------------------------
    def _member(self, value: Any) -> str:
        userid = value.strip() if isinstance(value, str) else ""
        if not userid or len(userid) > USERID_MAX:
            raise Refused("no_member")
        try:
            self.state.linked_user(userid) if "/" in userid else self.state.user_name(userid)
        except ApiError:
            raise Refused("no_member", 404) from None
        return userid

    def _connected(self) -> CallbackClient:
        if self.callbacks is None:
            raise Refused("no_bot", 503)
        return self.callbacks

    def _deliver(self, userid: str, xml: str, seq: int | None = None, task_id: str = "") -> Response:
        """Post one callback to the bot; a refusal or silence is noted in the member's conversation."""
        assert self.callbacks is not None
        try:
            resp = self.callbacks.send(xml)
        except requests.RequestException:
            self._fail(userid, seq, "bot_unreachable", 502)
        if resp.status != 200:
            self._fail(userid, seq, "bot_refused", 502, status=resp.status)
        self._passive(userid, resp.body, task_id)
        return jsonify({"ok": True, "seq": seq})

    def _fail(self, userid: str, seq: int | None, code: str, status: int, **detail: Any) -> NoReturn:
        if seq is not None:
            self.state.mark_failed(userid, seq, code)
        raise Refused(code, status, **detail)

    def _passive(self, userid: str, body: str, task_id: str) -> None:
        """A reply in the callback's own answer: a text joins the chat, update_button greys the clicked card."""
        assert self.callbacks is not None
        try:
            plain = self.callbacks.decrypt_reply(body)
        except Exception:  # noqa: BLE001 - whatever the bot answered, the member simply sees nothing
            return
        if plain:
            self.state.passive_reply(userid, plain, task_id)


def choices(card: dict, key: str, given: Any) -> dict[str, list[str]] | None:
    """The SelectedItems WeCom would send for this press on this card; Refused for what the client never allows."""
    given = given if isinstance(given, dict) else {}
    ctype = card.get("card_type")
    if ctype == "button_interaction":
        if key not in [b.get("key") for b in card.get("button_list") or [] if b.get("type", 0) in (0, None)]:
            raise Refused("bad_button")
        sel = card.get("button_selection")
        return {sel.get("question_key", ""): [_one(sel, given)]} if sel else None
    submit = card.get("submit_button") or {}
    if ctype not in ("vote_interaction", "multiple_interaction") or not key or key != submit.get("key"):
        raise Refused("bad_button")
    if ctype == "multiple_interaction":
        return {q.get("question_key", ""): [_one(q, given)] for q in card.get("select_list") or []}
    box = card.get("checkbox") or {}
    if box.get("disable"):
        raise Refused("card_done", 409)
    ids = [o.get("id") for o in box.get("option_list") or []]
    picked = given.get(box.get("question_key", ""))
    if not isinstance(picked, list) or not picked or len(set(picked)) != len(picked) \
            or any(p not in ids for p in picked):
        raise Refused("bad_choice")
    if box.get("mode", 0) != 1 and len(picked) != 1:
        raise Refused("bad_choice")
    return {box.get("question_key", ""): [str(p) for p in picked]}


def _one(question: dict, given: dict) -> str:
    """The one option chosen for a selector (its shown default when the page sent none)."""
    ids = [o.get("id") for o in question.get("option_list") or []]
    picked = given.get(question.get("question_key", ""))
    if picked is None:
        default = question.get("selected_id")
        return str(default if default in ids else (ids[0] if ids else ""))
    if not isinstance(picked, list) or len(picked) != 1 or picked[0] not in ids:
        raise Refused("bad_choice")
    return str(picked[0])


def _menu_keys(menu: list[dict]) -> set[str]:
    keys = set()
    for item in menu:
        for entry in [item, *(item.get("sub_button") or [])]:
            if entry.get("type") == "click" and entry.get("key"):
                keys.add(entry["key"])
    return keys


def _preview(entry: dict | None) -> dict | None:
    """What the list of chats shows of a member's newest entry."""
    if not entry:
        return None
    body = entry.get("body") or {}
    msgtype = entry.get("msgtype") or body.get("msgtype") or ""
    content = body.get(msgtype) if isinstance(body.get(msgtype), dict) else {}
    card = entry.get("card") or content
    text = (entry.get("content") or content.get("content") or content.get("title")
            or (card.get("main_title") or {}).get("title") or (entry.get("media") or {}).get("filename") or "")
    text = _MARKUP.sub("", _LINK.sub(r"\1", str(text)))
    return {"seq": entry["seq"], "time": entry.get("time"), "kind": entry.get("kind"), "msgtype": msgtype,
            "text": " ".join(text.split())[:60]}


def _file_response(data: bytes, content_type: str, filename: str, inline: bool) -> Response:
    """A stored file as a download (or inline, for an image shown in the chat)."""
    resp = Response(data, content_type=content_type)
    resp.headers["Content-Disposition"] = content_disposition(filename, "inline" if inline else "attachment")
    return resp


def _asset(name: str) -> Response:
    """One of the page's own files (read each time: a demo picks up an edited page on reload)."""
    if name not in ASSETS:
        raise Refused("no_asset", 404)
    return _secured(Response((STATIC / name).read_bytes(), mimetype=ASSETS[name]))


def _json() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _secured(resp: Response) -> Response:
    resp.headers.update(PAGE_HEADERS)
    return resp


def _refused(exc: Refused) -> Response:
    resp = jsonify({"ok": False, "error": exc.code, **exc.detail})
    resp.status_code = exc.status
    return resp
