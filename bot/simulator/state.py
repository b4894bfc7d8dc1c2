"""In-memory, thread-safe state behind the fake WeCom API: tokens, messages, cards, media, inboxes."""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import quote

from bot.simulator import errcodes as E

TOKEN_TTL = 7200
DUPLICATE_CHECK_DEFAULT, DUPLICATE_CHECK_MAX = 1800, 4 * 3600  # seconds (WECOM.md §3.1)
RESPONSE_CODE_TTL = 72 * 3600
INTERACTIVE_CARDS = frozenset({"button_interaction", "vote_interaction", "multiple_interaction"})
MSGTYPES = frozenset(
    {"text", "image", "voice", "video", "file", "textcard", "news", "mpnews", "markdown",
     "miniprogram_notice", "template_card"}
)
# linkedcorp/message/send: the SDKs that wrap it (docs/reach.md) offer these, and no template_card.
LINKED_MSGTYPES = MSGTYPES - {"template_card"}
MEDIA_TYPES = frozenset({"image", "voice", "video", "file"})


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """Build a Content-Disposition header with an RFC 5987 filename* for non-ASCII names."""
    if filename.isascii():
        return disposition + '; filename="%s"' % filename.replace("\\", "_").replace('"', "_")
    fallback = "".join(c if c.isascii() and c not in '\\"' else "_" for c in filename)
    return disposition + "; filename=\"%s\"; filename*=UTF-8''%s" % (fallback, quote(filename, safe=""))


class ApiError(Exception):
    """A WeCom errcode raised by a state operation."""

    def __init__(self, errcode: int, errmsg: str | None = None):
        super().__init__(errcode, errmsg)
        self.body = E.error_body(errcode, errmsg)


@dataclass(frozen=True)
class Media:
    """One stored media file."""

    media_id: str
    type: str
    filename: str
    content_type: str
    data: bytes
    created_at: int


@dataclass
class _ResponseCode:
    task_id: str
    userid: str | None  # None: the send-time code, valid for the whole task
    issued_at: float
    used: bool = False


@dataclass
class _Task:
    userids: list[str]
    cards: dict[str, dict] = field(default_factory=dict)  # userid -> current template_card
    replace_names: dict[str, str | None] = field(default_factory=dict)
    replaced: set[str] = field(default_factory=set)  # members whose whole card update_template_card replaced

    def disabled_text(self, userid: str) -> str | None:
        """The grey text a member's card shows once the app disabled it (None: still clickable)."""
        if self.replace_names.get(userid):
            return self.replace_names[userid]
        return self.cards[userid].get("replace_text") if userid in self.replaced else None


class WeComState:
    """Everything the fake remembers; all public methods are safe to call from any thread."""

    def __init__(self, *, corp_id: str, corp_secret: str, agent_id: int, now: Callable[[], float]):
        self.corp_id, self.corp_secret, self.agent_id, self.now = corp_id, corp_secret, int(agent_id), now
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # notified on every inbox entry (the page long-polls)
        self._users: dict[str, str] | None = None
        self._names: dict[str, str] = {}  # directory names while every userid is accepted
        self._directory: list[dict] = []  # what the simulator page lists (set_directory)
        self._linked: dict[str, str] | None = None  # "CorpID/UserID" -> name; None accepts every linked id
        self._tokens: dict[str, float] = {}  # token -> issued_at
        self._expired: set[str] = set()
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._msgid = itertools.count(int(time.time() * 1000) << 12)
        self._clear()

    def _clear(self) -> None:
        self._media: dict[str, Media] = {}
        self._inbox: dict[str, list[dict]] = {}
        self._codes: dict[str, _ResponseCode] = {}
        self._tasks: dict[str, _Task] = {}
        # enable_duplicate_check: (userid, request JSON) -> (first delivery time, the answer it got)
        self._sent_once: dict[tuple[str, str], tuple[float, dict]] = {}

    # --- directory and tokens -------------------------------------------------------------
    def set_names(self, names: dict[str, str]) -> None:
        """Give some members a directory name while every userid stays accepted (the demo)."""
        with self._lock:
            self._names = dict(names)

    def set_directory(self, members: list[dict]) -> None:
        """The directory the simulator page lists, in order: {userid, name, department, position}; also names."""
        with self._lock:
            self._directory = [dict(m) for m in members]
            self._names |= {m["userid"]: m["name"] for m in members if m.get("name")}
            self._last_seq = next(self._seq)  # a change: pages already open wake up and list the members
            self._changed.notify_all()

    def directory(self) -> list[dict]:
        """The members the simulator page lists: the directory, then anyone else who has a conversation."""
        with self._lock:
            listed = [dict(m) for m in self._directory]
            known = {m["userid"] for m in listed}
            users = sorted(self._users or {})
            extra = [u for u in [*users, *self._inbox] if u not in known]
            for userid in dict.fromkeys(extra):
                listed.append({"userid": userid, "name": self._names.get(userid) or (self._users or {}).get(userid)
                               or userid, "department": "", "position": ""})
            return listed

    def set_users(self, users: dict[str, str] | None) -> None:
        """Set the member directory {userid: name}; None accepts every userid."""
        with self._lock:
            self._users = None if users is None else dict(users)

    def user_name(self, userid: str) -> str:
        """Return a member's name or raise 60111."""
        with self._lock:
            if self._users is None:
                return self._names.get(userid, userid)
            if userid not in self._users:
                raise ApiError(E.USER_NOT_FOUND)
            return self._users[userid]

    def set_linked_users(self, users: dict[str, str] | None) -> None:
        """Set the linked corps' members {"CorpID/UserID": name} in the app's range; None accepts any."""
        with self._lock:
            self._linked = None if users is None else dict(users)

    def linked_user(self, userid: str) -> dict:
        """linkedcorp/user/get: a linked member's details or 60111 (the id must be "CorpID/UserID")."""
        corp, sep, user = userid.partition("/")
        with self._lock:
            known = self._linked is None or userid in self._linked
            name = (self._linked or {}).get(userid) or self._names.get(userid) or user
        if not sep or not corp or not user or not known:
            raise ApiError(E.USER_NOT_FOUND)
        return {"userid": userid, "corpid": corp, "name": name, "department": []}

    def issue_token(self, corpid: str | None, secret: str | None) -> str:
        """Check credentials and return a fresh access token."""
        if corpid != self.corp_id:
            raise ApiError(E.INVALID_CORPID)
        if secret != self.corp_secret:
            raise ApiError(E.INVALID_SECRET)
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = self.now()
        return token

    def check_token(self, token: str | None) -> None:
        """Raise 41001/40014/42001 unless the token is valid."""
        if not token:
            raise ApiError(E.MISSING_ACCESS_TOKEN)
        with self._lock:
            issued = self._tokens.get(token)
            if issued is None:
                raise ApiError(E.INVALID_ACCESS_TOKEN)
            if token in self._expired or self.now() - issued >= TOKEN_TTL:
                raise ApiError(E.ACCESS_TOKEN_EXPIRED)

    def expire_tokens(self) -> None:
        """Invalidate every token issued so far; later use answers 42001."""
        with self._lock:
            self._expired.update(self._tokens)

    # --- messages ---------------------------------------------------------------------------
    def send(self, body: dict) -> dict:
        """Validate and deliver a message/send body; return the API response."""
        result = self.send_recording(body)
        result.pop("_delivered", None)
        return result

    def send_recording(self, body: dict) -> dict:
        """`send`, with "_delivered": the members it reached ([] when the duplicate check dropped it)."""
        self._check_agent(body)
        msgtype = body.get("msgtype")
        if msgtype not in MSGTYPES:
            raise ApiError(E.INVALID_MSGTYPE)
        content = body.get(msgtype)
        if not isinstance(content, dict):
            raise ApiError(E.INVALID_PARAMETER, f"missing {msgtype} object")
        if msgtype == "text" and not str(content.get("content") or "").strip():
            raise ApiError(E.EMPTY_TEXT_CONTENT)
        touser = [u for u in str(body.get("touser") or "").split("|") if u]
        if not touser:
            raise ApiError(E.INVALID_USERID_LIST, "touser is empty")
        card_type = content.get("card_type") if msgtype == "template_card" else None
        task_id = content.get("task_id") if msgtype == "template_card" else None
        if card_type in INTERACTIVE_CARDS and not task_id:
            raise ApiError(E.INVALID_PARAMETER, "task_id required")
        with self._lock:
            if touser == ["@all"]:
                touser = sorted(self._users or {})
            # A linked-corp member ("CorpID/UserID") is not reachable through message/send.
            valid = [u for u in touser if "/" not in u and (self._users is None or u in self._users)]
            invalid = [u for u in touser if u not in valid]
            if not valid:
                raise ApiError(E.ALL_RECIPIENTS_INVALID)
            # enable_duplicate_check: the same request JSON from this app to the same member within the interval
            # is accepted and not delivered again (D90236). The answer repeats the first one (unverified).
            checked = str(body.get("enable_duplicate_check", 0)) == "1"
            key = json.dumps(body, sort_keys=True, ensure_ascii=False) if checked else ""
            given = body.get("duplicate_check_interval")
            interval = min(DUPLICATE_CHECK_DEFAULT if given is None else int(given), DUPLICATE_CHECK_MAX)
            earlier = [self._sent_once.get((u, key)) for u in valid] if checked else []
            earlier = [e for e in earlier if e is not None and self.now() - e[0] < interval]
            if checked and len(earlier) == len(valid):
                return {**copy.deepcopy(earlier[0][1]), "_delivered": []}
            if earlier:
                valid = [u for u in valid if not (self._sent_once.get((u, key))
                                                  and self.now() - self._sent_once[(u, key)][0] < interval)]
            if task_id and task_id in self._tasks:
                raise ApiError(E.DUPLICATE_TASK_ID)
            result = {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid),
                      "msgid": str(next(self._msgid))}
            entry = {"kind": "message", "msgid": result["msgid"], "msgtype": msgtype,
                     "body": copy.deepcopy(body), "time": int(self.now())}
            if task_id:
                self._tasks[task_id] = _Task(valid, {u: copy.deepcopy(content) for u in valid},
                                             {u: None for u in valid})
                entry |= {"task_id": task_id, "card_type": card_type}
            if card_type in INTERACTIVE_CARDS:
                result["response_code"] = entry["response_code"] = self._new_code(task_id, None)
            media = self._media.get(str(content.get("media_id")))
            if media:
                entry["media"] = {"media_id": media.media_id, "filename": media.filename,
                                  "content_type": media.content_type, "size": len(media.data)}
            for user in valid:
                self._push(user, entry)
                if checked:
                    self._sent_once[(user, key)] = (self.now(), copy.deepcopy(result))
            return {**result, "_delivered": list(valid)}

    def send_linked(self, body: dict) -> dict:
        """Validate and deliver a linkedcorp/message/send body (touser is a list of "CorpID/UserID")."""
        self._check_agent(body)
        msgtype = body.get("msgtype")
        if msgtype not in LINKED_MSGTYPES:
            raise ApiError(E.INVALID_MSGTYPE)
        content = body.get(msgtype)
        if not isinstance(content, dict):
            raise ApiError(E.INVALID_PARAMETER, f"missing {msgtype} object")
        if msgtype == "text" and not str(content.get("content") or "").strip():
            raise ApiError(E.EMPTY_TEXT_CONTENT)
        touser = body.get("touser")
        if not isinstance(touser, list) or not touser or not all(isinstance(u, str) for u in touser):
            raise ApiError(E.INVALID_USERID_LIST, "touser must be a list of CorpID/UserID")
        with self._lock:
            valid = [u for u in touser if "/" in u.strip("/")
                     and (self._linked is None or u in self._linked)]
            invalid = [u for u in touser if u not in valid]
            if not valid:
                raise ApiError(E.ALL_RECIPIENTS_INVALID)
            result = {"errcode": 0, "errmsg": "ok", "invaliduser": invalid, "invalidparty": [], "invalidtag": []}
            entry = {"kind": "message", "msgid": str(next(self._msgid)), "msgtype": msgtype,
                     "body": copy.deepcopy(body), "time": int(self.now()), "linked": True}
            media = self._media.get(str(content.get("media_id")))
            if media:
                entry["media"] = {"media_id": media.media_id, "filename": media.filename,
                                  "content_type": media.content_type, "size": len(media.data)}
            for user in valid:
                self._push(user, entry)
            return result

    def issue_response_code(self, task_id: str, userid: str) -> str:
        """Issue the fresh ResponseCode a click on a card carries (WECOM.md §3.7)."""
        with self._lock:
            if task_id not in self._tasks:
                raise ApiError(E.INVALID_PARAMETER, "unknown task_id")
            return self._new_code(task_id, userid)

    def update_card(self, body: dict) -> dict:
        """Apply a message/update_template_card body; each response_code works once."""
        self._check_agent(body)
        if not isinstance(body.get("button"), dict) and not isinstance(body.get("template_card"), dict):
            raise ApiError(E.INVALID_PARAMETER, "button or template_card required")
        with self._lock:
            code = self._codes.get(str(body.get("response_code")))
            if code is None or code.used or self.now() - code.issued_at > RESPONSE_CODE_TTL:
                raise ApiError(E.INVALID_RESPONSE_CODE)
            code.used = True
            task = self._tasks[code.task_id]
            if body.get("userids"):
                targets = [u for u in body["userids"] if u in task.cards]
            elif body.get("atall") or code.userid is None:
                targets = list(task.userids)
            else:
                targets = [code.userid]
            for user in targets:
                if isinstance(body.get("template_card"), dict):
                    task.cards[user] = copy.deepcopy(body["template_card"])
                    task.replace_names[user] = None
                    task.replaced.add(user)
                else:
                    task.replace_names[user] = body["button"].get("replace_name")
                self._push(user, {"kind": "card_update", "task_id": code.task_id,
                                  "response_code": body["response_code"], "update": copy.deepcopy(body),
                                  "time": int(self.now())})
            return {"errcode": 0, "errmsg": "ok", "invaliduser": []}

    def inbox(self, userid: str, after: int = 0) -> list[dict]:
        """Return what was delivered to a user after seq, with cards in their current state."""
        with self._lock:
            out = []
            for entry in self._inbox.get(userid, []):
                if entry["seq"] <= after:
                    continue
                item = copy.deepcopy(entry)
                task = self._tasks.get(entry.get("task_id", ""))
                if task and userid in task.cards:
                    item["card"] = copy.deepcopy(task.cards[userid])
                    item["replace_name"] = task.replace_names[userid]
                    item["disabled"] = task.disabled_text(userid)
                out.append(item)
            return out

    def wait_inbox(self, userid: str, after: int, timeout: float) -> list[dict]:
        """`inbox`, waiting up to `timeout` seconds (real time) for a first new entry when there is none yet."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._changed:
            while True:
                entries = self.inbox(userid, after)
                left = deadline - time.monotonic()
                if entries or left <= 0:
                    return entries
                self._changed.wait(left)

    def wait_any(self, after: int, timeout: float) -> int:
        """Wait up to `timeout` seconds (real time) until any conversation has an entry newer than `after`."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._changed:
            while self._last_seq <= after and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return self._last_seq

    def last_seq(self) -> int:
        """The number of the newest change (an entry in any conversation, or the directory; 0: none yet)."""
        with self._lock:
            return self._last_seq

    def passive_reply(self, userid: str, plaintext_xml: str, task_id: str = "") -> None:
        """Apply a reply the bot put in a callback's own answer (WECOM.md §2.4): a text joins the member's
        chat; update_button greys the clicked card for that member. Other kinds are not shown."""
        try:
            root = ET.fromstring(plaintext_xml)
        except ET.ParseError:
            return
        kind = root.findtext("MsgType")
        with self._lock:
            if kind == "text" and (root.findtext("Content") or "").strip():
                body = {"touser": userid, "msgtype": "text", "agentid": self.agent_id,
                        "text": {"content": root.findtext("Content")}}
                self._push(userid, {"kind": "message", "msgid": str(next(self._msgid)), "msgtype": "text",
                                    "body": body, "time": int(self.now()), "passive": True})
            task = self._tasks.get(task_id)
            if kind == "update_button" and task and userid in task.cards:
                task.replace_names[userid] = root.findtext("Button/ReplaceName") or ""
                self._push(userid, {"kind": "card_update", "task_id": task_id, "passive": True,
                                    "update": {"button": {"replace_name": task.replace_names[userid]}},
                                    "time": int(self.now())})

    def card_view(self, task_id: str, userid: str) -> tuple[dict, str | None]:
        """The card a member sees now and its grey text if disabled; 40058 if the member never got it."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or userid not in task.cards:
                raise ApiError(E.INVALID_PARAMETER, "no such card for this member")
            return copy.deepcopy(task.cards[userid]), task.disabled_text(userid)

    def record_sent(self, userid: str, entry: dict) -> int:
        """Add what a member sent from the simulator page to the member's conversation; returns its seq."""
        with self._lock:
            self._push(userid, dict(entry, kind="sent", time=int(self.now())))
            return self._inbox[userid][-1]["seq"]

    def mark_failed(self, userid: str, seq: int, reason: str) -> None:
        """Note in a member's conversation that the bot never got what the member sent (entry `seq`)."""
        with self._lock:
            self._push(userid, {"kind": "failed", "ref": seq, "reason": reason, "time": int(self.now())})

    def conversations(self) -> dict[str, dict]:
        """Each member with a conversation: its newest entry (for the list of chats)."""
        with self._lock:
            return {u: copy.deepcopy(entries[-1]) for u, entries in self._inbox.items() if entries}

    # --- media ------------------------------------------------------------------------------
    def store_media(self, media_type: str, filename: str, content_type: str, data: bytes) -> Media:
        """Store an uploaded file and return its record."""
        if media_type not in MEDIA_TYPES:
            raise ApiError(E.INVALID_MEDIA_TYPE)
        if not data:
            raise ApiError(E.EMPTY_MEDIA)
        media = Media(secrets.token_urlsafe(36), media_type, filename or "file",
                      content_type or "application/octet-stream", bytes(data), int(self.now()))
        with self._lock:
            self._media[media.media_id] = media
        return media

    def media(self, media_id: str | None) -> Media:
        """Return a stored file or raise 40007."""
        with self._lock:
            media = self._media.get(media_id or "")
        if media is None:
            raise ApiError(E.INVALID_MEDIA_ID)
        return media

    # --- internals --------------------------------------------------------------------------
    def _check_agent(self, body: dict) -> None:
        try:
            if int(body.get("agentid")) == self.agent_id:
                return
        except (TypeError, ValueError):
            pass
        raise ApiError(E.INVALID_AGENTID)

    def _new_code(self, task_id: str, userid: str | None) -> str:
        code = secrets.token_urlsafe(24)
        self._codes[code] = _ResponseCode(task_id, userid, self.now())
        return code

    def _push(self, userid: str, entry: dict) -> None:
        self._last_seq = next(self._seq)
        self._inbox.setdefault(userid, []).append(dict(entry, seq=self._last_seq))
        self._changed.notify_all()
