"""The outbound WeCom API client: wechatpy's WeChatClient pointed at `api_base_url`,
with a timeout on every call and one shared, database-backed access token.

Secrets stay inside this module: every failure leaves it as a `WeComError` whose text went through
`scrub` (no `corpsecret`, no `access_token`, no URL query), raised `from None` so no traceback
carries the request URL; the token row is keyed by a hash. See docs/operations.md.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import threading
from typing import Any, Callable, Iterable
from urllib.parse import quote, urlsplit

import requests
import urllib3
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.exceptions import WeChatClientException
from wechatpy.work import WeChatClient

from workflows.core.models import WecomToken

from . import members

log = logging.getLogger(__name__)
TOKEN_ERRORS = (40014, 42001)
REFRESH_MARGIN = dt.timedelta(seconds=120)
DOWNLOAD_CHUNK = 64 * 1024
TOKEN_KEY_PREFIX = "sha256:"
_JSON_HEADERS = {"Content-Type": "application/json"}

# Query parameters whose values are credentials, in URLs and in `key=value` texts.
_SECRET_PARAM = re.compile(r"(?i)\b(corpsecret|secret|access_token|token|code|encoding_aes_key)"
                           r"(=|%3D|'\s*:\s*'|\"\s*:\s*\")[^&\s'\")]*")
# Any URL's query string (a request URL in an exception text names host, path and parameters).
_URL_QUERY = re.compile(r"(?i)((?:https?://[^\s?'\"]*|/cgi-bin/[^\s?'\"]*)\?)[^\s'\")]*")
_KNOWN: set[str] = set()           # this process's secret and tokens, replaced wherever they appear
_KNOWN_LOCK = threading.Lock()


def remember_secret(value: str | None) -> None:
    """Have `scrub` replace this value (the corp secret, every access token seen) from now on."""
    if value and len(value) >= 6:
        with _KNOWN_LOCK:
            _KNOWN.add(value)


def scrub(text: object) -> str:
    """The text with credentials removed: known secret/token values, `secret=`/`access_token=` values and
    URL query strings. The one function every error text passes before it leaves the client."""
    out = str(text)
    with _KNOWN_LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)
    for value in known:
        out = out.replace(value, "***")
    out = _URL_QUERY.sub(r"\1***", out)
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}***", out)


class _ScrubFilter(logging.Filter):
    """Scrubs urllib3's request lines ("GET /cgi-bin/gettoken?corpsecret=… HTTP/1.1") in debug logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's text in place; never drop it."""
        if record.args:
            record.msg, record.args = scrub(record.getMessage()), None
        else:
            record.msg = scrub(record.msg)
        return True


for _name in ("urllib3.connectionpool", "wechatpy.client.base", "wechatpy.client"):
    if not any(isinstance(f, _ScrubFilter) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(_ScrubFilter())


def token_key(corp_id: str, secret: str) -> str:
    """The token row's key: a hash of corp id and secret (one row per app; the secret is not recoverable)."""
    return TOKEN_KEY_PREFIX + hashlib.sha256(f"{corp_id}\0{secret}".encode()).hexdigest()


class WeComError(Exception):
    """A WeCom API call failed; `errcode` is None for network/HTTP failures. Its text is scrubbed."""

    def __init__(self, errcode: int | None, errmsg: str, http_status: int | None = None) -> None:
        self.errcode = errcode
        self.errmsg = scrub(errmsg)
        self.http_status = http_status
        super().__init__(f"errcode={errcode} http={http_status} {self.errmsg}")


class MediaRejected(WeComError):
    """A download that can never succeed (too large, wrong type): not retried. `code` names a file_errors
    template code (too_large, type_not_allowed); `read` is how many body bytes were read before stopping."""

    def __init__(self, code: str, errmsg: str, *, read: int = 0, **data: Any) -> None:
        self.code, self.read, self.data = code, read, data
        super().__init__(None, errmsg, 413 if code == "too_large" else 415)


def _network_error(what: str, exc: BaseException) -> WeComError:
    """A network failure as a WeComError: the exception's class and its scrubbed text (no URL, no query)."""
    return WeComError(None, f"{what}: {type(exc).__name__}: {exc}")


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
            try:
                with self._sessions.begin() as s:
                    row = s.get(WecomToken, self._key)
                    if row is None:
                        s.add(WecomToken(key=self._key, token=token, expires_at=expires, generation=1))
                    else:
                        row.token, row.expires_at, row.generation = token, expires, row.generation + 1
            except IntegrityError:
                # Another process stored the first token at the same moment; both are valid: keep ours here.
                log.info("access token stored by another process meanwhile")
            self._token, self._expires = token, expires
            return token


class WeComClient(WeChatClient):
    """wechatpy's work client with our base URL, timeout and shared token; no unbounded retry."""

    def __init__(self, *, corp_id: str, secret: str, api_base_url: str, timeout: float,
                 sessions: sessionmaker[Session],
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> None:
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base_url.rstrip("/") + "/cgi-bin/"
        _settle_environment(self._http, self.API_BASE_URL)
        self._pool = _direct_pool(self._http, self.API_BASE_URL, timeout)
        remember_secret(secret)
        self.tokens = TokenCache(sessions, token_key(corp_id, secret), self._get_token, clock)

    def _get_token(self) -> tuple[str, int]:
        try:
            res = self._http.get(self.API_BASE_URL + "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret},
                                 timeout=self.timeout)
            data = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise _network_error("gettoken", exc) from None
        if not isinstance(data, dict):
            raise WeComError(None, "gettoken: unexpected answer", res.status_code)
        if data.get("errcode", 0) != 0:
            raise WeComError(int(data["errcode"]), f"gettoken: {data.get('errmsg', '')}")
        remember_secret(str(data.get("access_token") or ""))
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    @property
    def access_token(self) -> str:  # type: ignore[override]
        """The shared token (wechatpy calls this for every request)."""
        return self.tokens.get()

    def call(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        """Call an API endpoint; refresh the token once on 40014/42001; raise WeComError."""
        if method == "post" and self._pool is not None and set(kwargs) == {"data"} and isinstance(kwargs["data"], dict):
            return self._post_json(endpoint, kwargs["data"])
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
                raise WeComError(exc.errcode, f"{endpoint}: {exc.errmsg or ''}", status) from None
            except requests.RequestException as exc:
                raise _network_error(endpoint, exc) from None
        raise AssertionError("unreachable")

    def _post_json(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON body straight through urllib3: the same answer, token refresh, errors and scrubbing as
        through wechatpy and requests, whose per-call preparation cost as much again as the call itself (every
        message the sender delivers comes this way; docs/performance.md)."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        rejected: str | None = None
        for attempt in (1, 2):
            token = self.tokens.get(stale=rejected)
            try:
                res = self._pool.request("POST", f"{self.API_BASE_URL}{endpoint}?access_token={quote(token, safe='')}",
                                         body=data, headers=_JSON_HEADERS)
            except urllib3.exceptions.HTTPError as exc:
                raise _network_error(endpoint, exc) from None
            if res.status >= 400:
                raise WeComError(None, f"{endpoint}: ", res.status)
            try:
                result = json.loads(res.data.decode("utf-8", "ignore"), strict=False)
            except ValueError:
                raise WeComError(None, f"{endpoint}: unreadable answer", res.status) from None
            if not isinstance(result, dict):
                raise WeComError(None, f"{endpoint}: unexpected answer", res.status)
            errcode = int(result.get("errcode") or 0)
            if errcode == 0:
                return result
            if errcode in TOKEN_ERRORS and attempt == 1:
                rejected = token
                continue
            raise WeComError(errcode, f"{endpoint}: {result.get('errmsg') or ''}", res.status)
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

    def download_media(self, media_id: str, max_bytes: int, extensions: Iterable[str] | None = None,
                       chunk: int = DOWNLOAD_CHUNK) -> tuple[bytes, str]:
        """Download a member's media by id, streamed and bounded: return (bytes, filename).

        Raises MediaRejected (not retried) when the file is larger than `max_bytes` — from Content-Length
        before any body byte, or while streaming, after at most `max_bytes + chunk` bytes — or when its
        name's extension is not among `extensions` (None: any; the store still checks the content)."""
        allowed = {e.lower().lstrip(".") for e in extensions} if extensions is not None else None
        rejected: str | None = None
        for attempt in (1, 2):
            token = self.tokens.get(stale=rejected)
            try:
                res = self._http.get(self.API_BASE_URL + "media/get",
                                     params={"access_token": token, "media_id": media_id},
                                     timeout=self.timeout, stream=True)
            except requests.RequestException as exc:
                raise _network_error("media/get", exc) from None
            with res:
                if res.status_code >= 400:
                    raise WeComError(None, f"media/get: HTTP {res.status_code}", res.status_code)
                ctype = res.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if ctype in ("application/json", "text/plain"):  # an error answer, not a file
                    data = _json_error(res, max_bytes=65536)
                    if data.get("errcode") in TOKEN_ERRORS and attempt == 1:
                        rejected = token
                        continue
                    raise WeComError(int(data.get("errcode", -1)), f"media/get: {data.get('errmsg', 'no media')}",
                                     res.status_code)
                filename = _filename(res.headers.get("Content-Disposition", ""))
                ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
                if allowed is not None and ext and ext not in allowed:
                    raise MediaRejected("type_not_allowed", f"media/get: .{ext} not accepted", declared=ext,
                                        filename=filename)
                length = res.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > max_bytes:
                    raise MediaRejected("too_large", f"media/get: {length} bytes > {max_bytes}",
                                        max_bytes=max_bytes, filename=filename)
                try:
                    return _read_bounded(res, max_bytes, chunk), filename
                except MediaRejected as exc:
                    exc.data["filename"] = filename
                    raise
        raise AssertionError("unreachable")


def _settle_environment(http: requests.Session, base_url: str) -> None:
    """Read the environment's proxy and CA settings for the API host once, here: with `trust_env` requests
    re-reads them (and ~/.netrc) on every call, a large part of the sender's cost per message."""
    if not http.trust_env:
        return
    http.proxies.update(requests.utils.get_environ_proxies(base_url))  # {} when NO_PROXY covers the host
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and http.verify is True:
        http.verify = bundle
    http.trust_env = False


def _direct_pool(http: requests.Session, base_url: str, timeout: float) -> urllib3.PoolManager | None:
    """A urllib3 pool for JSON POSTs to the API, verifying TLS as `http` does; None when a proxy is configured
    for the API host (then every call goes through requests, which handles proxies and their credentials)."""
    scheme = urlsplit(base_url).scheme
    if http.proxies.get(scheme) or http.proxies.get("all"):
        return None
    options: dict[str, Any] = {"maxsize": 10, "retries": False,
                               "timeout": urllib3.Timeout(connect=timeout, read=timeout)}
    if scheme == "https":
        verify = http.verify
        options["cert_reqs"] = "CERT_REQUIRED" if verify else "CERT_NONE"
        if verify:
            options["ca_certs"] = verify if isinstance(verify, str) else requests.certs.where()
    return urllib3.PoolManager(**options)


def _read_bounded(res: requests.Response, max_bytes: int, chunk: int) -> bytes:
    """The body, read chunk by chunk; MediaRejected as soon as it passes `max_bytes` (never the whole file)."""
    buf = bytearray()
    try:
        for part in res.iter_content(chunk_size=chunk):
            buf += part
            if len(buf) > max_bytes:
                raise MediaRejected("too_large", f"media/get: more than {max_bytes} bytes", read=len(buf),
                                    max_bytes=max_bytes)
    except requests.RequestException as exc:
        raise _network_error("media/get", exc) from None
    return bytes(buf)


def _json_error(res: requests.Response, max_bytes: int) -> dict[str, Any]:
    """A (small) JSON error answer; an unreadable one is errcode -1."""
    try:
        raw = next(res.iter_content(chunk_size=max_bytes), b"")
        data = json.loads(raw.decode("utf-8", "replace"))
    except (requests.RequestException, ValueError):
        return {"errcode": -1, "errmsg": "unreadable answer"}
    return data if isinstance(data, dict) else {"errcode": -1, "errmsg": "unexpected answer"}


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
