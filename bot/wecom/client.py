"""The outbound WeCom API client: wechatpy's WeChatClient pointed at `api_base_url`,
with a timeout on every call and one shared, database-backed access token."""
from __future__ import annotations

import datetime as dt
import threading
from typing import Any, Callable

import requests
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.exceptions import WeChatClientException
from wechatpy.work import WeChatClient

from workflows.core.models import WecomToken

from . import members

TOKEN_ERRORS = (40014, 42001)
REFRESH_MARGIN = dt.timedelta(seconds=120)


class WeComError(Exception):
    """A WeCom API call failed; `errcode` is None for network/HTTP failures."""

    def __init__(self, errcode: int | None, errmsg: str, http_status: int | None = None) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.http_status = http_status
        super().__init__(f"errcode={errcode} http={http_status} {errmsg}")


class TokenCache:
    """One access token for all threads (lock) and processes (database row)."""

    def __init__(self, sessions: sessionmaker[Session], key: str, fetch: Callable[[], tuple[str, int]],
                 clock: Callable[[], dt.datetime]) -> None:
        self._sessions = sessions
        self._key = key
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires: dt.datetime | None = None
        self.fetches = 0

    def _fresh(self, token: str | None, expires: dt.datetime | None, stale: str | None) -> bool:
        return bool(token) and token != stale and expires is not None and expires - REFRESH_MARGIN > self._clock()

    def get(self, stale: str | None = None) -> str:
        """A valid token; `stale` is a token WeCom just rejected, which is never returned again."""
        if self._fresh(self._token, self._expires, stale):
            return self._token  # type: ignore[return-value]
        with self._lock:
            if self._fresh(self._token, self._expires, stale):
                return self._token  # type: ignore[return-value]
            with self._sessions() as s:
                row = s.get(WecomToken, self._key)
                if row and self._fresh(row.token, row.expires_at, stale):
                    self._token, self._expires = row.token, row.expires_at
                    return row.token
            # Fetch outside any transaction (no transaction spans an HTTP call).
            token, expires_in = self._fetch()
            self.fetches += 1
            expires = self._clock() + dt.timedelta(seconds=expires_in)
            with self._sessions.begin() as s:
                row = s.get(WecomToken, self._key)
                if row is None:
                    s.add(WecomToken(key=self._key, token=token, expires_at=expires, generation=1))
                else:
                    row.token, row.expires_at, row.generation = token, expires, row.generation + 1
            self._token, self._expires = token, expires
            return token


class WeComClient(WeChatClient):
    """wechatpy's work client with our base URL, timeout and shared token; no unbounded retry."""

    def __init__(self, *, corp_id: str, secret: str, api_base_url: str, timeout: float,
                 sessions: sessionmaker[Session],
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> None:
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base_url.rstrip("/") + "/cgi-bin/"
        self.tokens = TokenCache(sessions, f"{corp_id}:{secret[:10]}", self._get_token, clock)

    def _get_token(self) -> tuple[str, int]:
        try:
            res = self._http.get(self.API_BASE_URL + "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret},
                                 timeout=self.timeout)
            data = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeComError(None, f"gettoken failed: {exc}") from exc
        if data.get("errcode", 0) != 0:
            raise WeComError(int(data["errcode"]), str(data.get("errmsg", "")))
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    @property
    def access_token(self) -> str:  # type: ignore[override]
        """The shared token (wechatpy calls this for every request)."""
        return self.tokens.get()

    def call(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        """Call an API endpoint; refresh the token once on 40014/42001; raise WeComError."""
        base_params = dict(kwargs.pop("params", {}))
        rejected: str | None = None
        for attempt in (1, 2):
            token = self.tokens.get(stale=rejected)
            try:
                return self._request(method, endpoint, params={**base_params, "access_token": token}, **kwargs)
            except WeChatClientException as exc:
                if exc.errcode in TOKEN_ERRORS and attempt == 1:
                    rejected = token
                    continue
                status = exc.response.status_code if exc.response is not None else None
                raise WeComError(exc.errcode, str(exc.errmsg or ""), status) from exc
            except requests.RequestException as exc:
                raise WeComError(None, f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    def send_message(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST a full JSON body to message/send, or to linkedcorp/message/send when `touser` is a list of
        linked-corp ids ("CorpID/UserID"; the renderer addresses them so)."""
        endpoint = "linkedcorp/message/send" if isinstance(body.get("touser"), list) else "message/send"
        return self.call("post", endpoint, data=body)

    def member_name(self, userid: str) -> str:
        """A member's name from the directory: user/get, or linkedcorp/user/get for "CorpID/UserID"."""
        if members.is_linked(userid):
            res = self.call("post", "linkedcorp/user/get", data={"userid": userid})
            return str((res.get("user_info") or {}).get("name") or "")
        return str(self.call("get", "user/get", params={"userid": userid}).get("name") or "")

    def update_template_card(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST message/update_template_card (wechatpy has no helper for it)."""
        return self.call("post", "message/update_template_card", data=body)

    def upload_media(self, media_type: str, filename: str, content: bytes, mime: str) -> str:
        """Upload a temporary media file and return its media_id."""
        res = self.call("post", "media/upload", params={"type": media_type},
                        files={"media": (filename, content, mime)})
        return str(res["media_id"])

    def download_media(self, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        """Download a member's media by id (host from api_base_url, bounded size); return (bytes, filename)."""
        res = self.call("get", "media/get", params={"media_id": media_id})
        if isinstance(res, dict):  # JSON error bodies are raised above; a dict here means no file
            raise WeComError(int(res.get("errcode", -1)), str(res.get("errmsg", "no media")))
        if len(res.content) > max_bytes:
            raise WeComError(None, "media too large")
        return res.content, _filename(res.headers.get("Content-Disposition", ""))


def _filename(disposition: str) -> str:
    """The filename from a Content-Disposition header (RFC 5987 aware)."""
    from urllib.parse import unquote
    for part in disposition.split(";"):
        part = part.strip()
        if part.lower().startswith("filename*="):
            value = part.split("=", 1)[1]
            return unquote(value.split("''", 1)[-1]).strip('"')
    for part in disposition.split(";"):
        part = part.strip()
        if part.lower().startswith("filename="):
            raw = part.split("=", 1)[1].strip('"')
            try:
                return raw.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                return raw
    return ""
