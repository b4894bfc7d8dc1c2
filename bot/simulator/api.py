"""FakeWeCom: a Flask stand-in for the WeCom server API (/cgi-bin/) plus simulator-only /_sim/ endpoints."""

from __future__ import annotations

import json
import mimetypes
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, Response, jsonify, request

from bot.simulator import errcodes as E
from bot.simulator.signin import SignIn
from bot.simulator.phone import WAIT_MAX, Phone
from bot.simulator.state import ApiError, Media, WeComState, content_disposition

DEFAULT_CORP_ID = "wwsimulatorcorp0001"
DEFAULT_CORP_SECRET = "simulator-secret"
DEFAULT_AGENT_ID = 1000002


@dataclass(frozen=True)
class Call:
    """One recorded /cgi-bin/ request and the answer it got."""

    path: str  # e.g. "message/send"
    params: dict[str, str]
    body: Any  # parsed JSON, a summary of multipart uploads, or None
    timestamp: float
    status: int
    response: Any  # JSON answer, or {"bytes": n, "content_type": ...} for media downloads
    # message/send: who it reached; [] when WeCom's duplicate check dropped it (None: not a send)
    delivered: tuple[str, ...] | None = None


@dataclass
class _Fault:
    errcode: int | None
    http_status: int | None
    delay: float | None


def normalize_path(path: str) -> str:
    """Turn '/cgi-bin/message/send' or 'message/send' into 'message/send'."""
    path = path.strip("/")
    return path[len("cgi-bin/"):] if path.startswith("cgi-bin/") else path


class FakeWeCom(WeComState):
    """The WeCom API stand-in: records calls, injects faults and serves a Flask app at `.app`."""

    def __init__(self, *, corp_id: str = DEFAULT_CORP_ID, corp_secret: str = DEFAULT_CORP_SECRET,
                 agent_id: int = DEFAULT_AGENT_ID, users: dict[str, str] | None = None,
                 now: Callable[[], float] = time.time):
        super().__init__(corp_id=corp_id, corp_secret=corp_secret, agent_id=agent_id, now=now)
        self.set_users(users)
        self._calls: list[Call] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, float] = {}
        # Generated (never held in memory) media: media_id -> (filename, content type, size, announce length)
        self._generated: dict[str, tuple[str, str, int, bool]] = {}
        self.media_served: dict[str, int] = {}   # media_id -> body bytes handed to the socket so far
        # Sign-in to web pages (OAuth, web login); `signin.choices` lists members on the picker page.
        self.signin = SignIn(corp_id=corp_id, agent_id=agent_id, now=now)
        # The simulator page at "/" (the WeCom client in a browser); `phone.connect(...)` lets members write.
        self.phone = Phone(self, self.signin)
        self._handlers = {
            "gettoken": self._gettoken, "message/send": self._send,
            "message/update_template_card": self._update_card, "media/upload": self._upload,
            "media/get": self._media_get, "user/get": self._user_get,
            "auth/getuserinfo": self._getuserinfo, "user/getuserinfo": self._getuserinfo,
            "linkedcorp/message/send": self._send_linked, "linkedcorp/user/get": self._linked_user_get,
        }
        self.app = self._build_app()

    # --- inspection ---------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        """A snapshot of every /cgi-bin/ call so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, path: str) -> list[Call]:
        """Recorded calls to one endpoint."""
        path = normalize_path(path)
        return [c for c in self.calls if c.path == path]

    def messages_to(self, userid: str) -> list[dict]:
        """message/send and linkedcorp/message/send bodies that were delivered to a user, in order."""
        out = []
        for c in self.calls:
            if c.path not in ("message/send", "linkedcorp/message/send"):
                continue
            if c.status != 200 or not isinstance(c.response, dict) or c.response.get("errcode") != 0:
                continue
            if c.path == "linkedcorp/message/send":
                if userid in c.body.get("touser", []) and userid not in c.response["invaliduser"]:
                    out.append(c.body)
                continue
            if c.delivered is not None:
                if userid in c.delivered:
                    out.append(c.body)
                continue
            users = str(c.body.get("touser", "")).split("|")
            if (userid in users or users == ["@all"]) and userid not in c.response["invaliduser"].split("|"):
                out.append(c.body)
        return out

    def duplicates_dropped(self) -> list[dict]:
        """message/send bodies WeCom accepted and did not deliver (duplicate check)."""
        return [c.body for c in self.calls_to("message/send") if c.delivered == ()]

    def card_updates(self) -> list[dict]:
        """Bodies of successful update_template_card calls."""
        return [c.body for c in self.calls_to("message/update_template_card")
                if isinstance(c.response, dict) and c.response.get("errcode") == 0]

    def reset(self) -> None:
        """Forget calls, faults, delays, messages, cards and media; keep users and issued tokens."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            self._delays.clear()
            self._clear()

    def test_client(self):
        """A Flask test client for in-process use."""
        return self.app.test_client()

    # --- fault injection ------------------------------------------------------------------------
    def fail_next(self, path: str, *, errcode: int | None = None, http_status: int | None = None,
                  delay: float | None = None, times: int = 1) -> None:
        """Make the next `times` calls to an endpoint fail (errcode / HTTP status) and/or stall."""
        fault = _Fault(errcode, http_status, delay)
        with self._lock:
            self._faults.setdefault(normalize_path(path), deque()).extend([fault] * times)

    def set_delay(self, path: str, seconds: float | None) -> None:
        """Delay every call to an endpoint by `seconds` (0 or None removes it)."""
        with self._lock:
            if seconds:
                self._delays[normalize_path(path)] = float(seconds)
            else:
                self._delays.pop(normalize_path(path), None)

    # --- Flask app ------------------------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask("bot.simulator")
        app.add_url_rule("/cgi-bin/<path:endpoint>", "cgi", self._dispatch, methods=["GET", "POST"])
        app.add_url_rule("/_sim/inbox/<path:userid>", "inbox", self._sim_inbox)
        app.add_url_rule("/_sim/media", "sim_media", self._sim_media, methods=["POST"])
        app.add_url_rule("/_sim/click", "sim_click", self._sim_click, methods=["POST"])
        self.signin.register(app)
        self.phone.register(app)
        return app

    def _dispatch(self, endpoint: str) -> Response:
        path = normalize_path(endpoint)
        with self._lock:
            delay = self._delays.get(path, 0.0)
            queue = self._faults.get(path)
            fault = queue.popleft() if queue else None
        delay += (fault.delay or 0.0) if fault else 0.0
        if delay:
            time.sleep(delay)
        body = self._request_body()
        if fault and fault.http_status:
            resp = Response(f"simulated HTTP {fault.http_status}", status=fault.http_status)
            return self._record(path, body, resp, None)
        if fault and fault.errcode is not None:
            payload = E.error_body(fault.errcode, "simulated fault")
            return self._record(path, body, jsonify(payload), payload)
        handler = self._handlers.get(path)
        try:
            if handler is None:
                return self._record(path, body, Response("not found", status=404), None)
            if path != "gettoken":
                self.check_token(request.args.get("access_token"))
            result = handler(body)
        except ApiError as exc:
            result = exc.body
        if isinstance(result, Response):
            return self._record(path, body, result, {"bytes": result.content_length,
                                                     "content_type": result.content_type})
        delivered = result.pop("_delivered", None) if isinstance(result, dict) else None
        return self._record(path, body, jsonify(result), result,
                            tuple(delivered) if delivered is not None else None)

    def _record(self, path: str, body: Any, resp: Response, summary: Any,
                delivered: tuple[str, ...] | None = None) -> Response:
        call = Call(path, request.args.to_dict(), body, self.now(), resp.status_code, summary, delivered)
        with self._lock:
            self._calls.append(call)
        return resp

    @staticmethod
    def _request_body() -> Any:
        if request.files or request.form:
            return {"form": request.form.to_dict(),
                    "files": {k: {"filename": f.filename, "content_type": f.mimetype}
                              for k, f in request.files.items()}}
        raw = request.get_data(cache=True)
        if not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return {"raw": raw.decode("utf-8", "replace")}

    def _json_body(self, body: Any) -> dict:
        if not isinstance(body, dict) or "raw" in body:
            raise ApiError(E.INVALID_JSON)
        return body

    # --- /cgi-bin/ handlers -----------------------------------------------------------------------
    def _gettoken(self, _body: Any) -> dict:
        token = self.issue_token(request.args.get("corpid"), request.args.get("corpsecret"))
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def _send(self, body: Any) -> dict:
        return self.send_recording(self._json_body(body))

    def _send_linked(self, body: Any) -> dict:
        return self.send_linked(self._json_body(body))

    def _linked_user_get(self, body: Any) -> dict:
        userid = str(self._json_body(body).get("userid") or "")
        return {"errcode": 0, "errmsg": "ok", "user_info": self.linked_user(userid)}

    def _update_card(self, body: Any) -> dict:
        return self.update_card(self._json_body(body))

    def _upload(self, _body: Any) -> dict:
        media = self._store_upload(request.args.get("type", ""))
        return {"errcode": 0, "errmsg": "", "type": media.type, "media_id": media.media_id,
                "created_at": str(media.created_at)}

    def store_generated_media(self, filename: str, size: int, *, content_type: str = "application/pdf",
                              announce_length: bool = False) -> str:
        """A file of `size` bytes made up while it is served (a big file without holding it in memory);
        without `announce_length` it is sent chunked, so only reading tells its size. Returns the media_id."""
        import secrets as _secrets
        media_id = _secrets.token_urlsafe(36)
        with self._lock:
            self._generated[media_id] = (filename, content_type, int(size), announce_length)
            self.media_served[media_id] = 0
        return media_id

    def _generated_media(self, media_id: str) -> Response:
        filename, ctype, size, announce = self._generated[media_id]
        block = b"%PDF-1.4\n" + b"0" * (64 * 1024 - 9)

        def body():  # noqa: ANN202
            sent = 0
            while sent < size:
                part = block[:size - sent]
                sent += len(part)
                with self._lock:
                    self.media_served[media_id] = sent
                yield part
        resp = Response(body(), content_type=ctype)
        if announce:
            resp.headers["Content-Length"] = str(size)
        resp.headers["Content-Disposition"] = content_disposition(filename)
        return resp

    def _media_get(self, _body: Any) -> Response:
        if request.args.get("media_id") in self._generated:
            return self._generated_media(request.args["media_id"])
        media = self.media(request.args.get("media_id"))
        resp = Response(media.data, content_type=media.content_type)
        resp.headers["Content-Disposition"] = content_disposition(media.filename)
        return resp

    def _user_get(self, _body: Any) -> dict:
        userid = request.args.get("userid", "")
        return {"errcode": 0, "errmsg": "ok", "userid": userid, "name": self.user_name(userid)}

    def _getuserinfo(self, _body: Any) -> dict:
        return self.signin.getuserinfo(request.args.get("code"))

    def _store_upload(self, media_type: str) -> Media:
        upload = request.files.get("media")
        if upload is None:
            raise ApiError(E.EMPTY_MEDIA)
        filename = upload.filename or "file"
        ctype = upload.mimetype
        if not ctype or ctype == "application/octet-stream":
            ctype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return self.store_media(media_type, filename, ctype, upload.read())

    # --- /_sim/ handlers (not recorded in calls) --------------------------------------------------
    def _sim_inbox(self, userid: str) -> Response:
        after, wait = request.args.get("after", "0"), request.args.get("wait", "0")
        after_seq = int(after) if after.isdigit() else 0
        if wait.isdigit() and int(wait) > 0:  # long poll (the simulator page): at most WAIT_MAX seconds
            return jsonify(self.wait_inbox(userid, after_seq, min(float(wait), WAIT_MAX)))
        return jsonify(self.inbox(userid, after_seq))

    def _sim_media(self) -> Response:
        media_type = request.form.get("type") or request.args.get("type")
        upload = request.files.get("media")
        if not media_type and upload is not None:
            ctype = upload.mimetype or mimetypes.guess_type(upload.filename or "")[0] or ""
            if ctype == "application/octet-stream":
                ctype = mimetypes.guess_type(upload.filename or "")[0] or ""
            media_type = "image" if ctype.startswith("image/") else "file"
        try:
            media = self._store_upload(media_type)
        except ApiError as exc:
            return jsonify(exc.body), 400
        return jsonify({"media_id": media.media_id, "type": media.type})

    def _sim_click(self) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            code = self.issue_response_code(str(body.get("task_id")), str(body.get("userid")))
        except ApiError as exc:
            return jsonify(exc.body), 404
        return jsonify({"response_code": code})
