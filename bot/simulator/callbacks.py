"""CallbackClient: builds and sends encrypted WeCom callbacks exactly as WeCom does (WECOM.md §1.3-1.5, §2)."""

from __future__ import annotations

import hashlib
import itertools
import random
import string
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Callable

import requests
from wechatpy.work.crypto import PrpCrypto, WeChatCrypto

DEFAULT_CALLBACK_PATH = "/wecom/callback"
TAMPER_FIELDS = ("signature", "nonce", "timestamp", "encrypt")
_B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
# Shared by all clients so ids stay unique across clients and runs (time-based start, fits in int64).
_MSG_IDS = itertools.count(int(time.time() * 1000) << 20)


@dataclass(frozen=True)
class CallbackResponse:
    """What the webhook answered."""

    status: int
    body: str


def sign(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """WeCom msg_signature: sha1 over the sorted, concatenated four strings."""
    return hashlib.sha1("".join(sorted([token, str(timestamp), str(nonce), encrypt])).encode()).hexdigest()


def cdata(value: Any) -> str:
    """Wrap a value in CDATA, splitting any ']]>' inside it."""
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def envelope(corp_id: str, encrypt: str, agent_id: Any) -> str:
    """The outer POST body WeCom sends: ToUserName, Encrypt, AgentID."""
    return (f"<xml><ToUserName>{cdata(corp_id)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt>"
            f"<AgentID>{cdata(agent_id)}</AgentID></xml>")


def flip(value: str) -> str:
    """Change one character in the middle of a string, keeping its alphabet (for tamper tests)."""
    if not value:
        return "x"
    alphabet = string.digits if value.isdigit() else (
        "0123456789abcdef" if all(c in "0123456789abcdef" for c in value) else _B64)
    i = len(value) // 2
    c = value[i]
    new = alphabet[(alphabet.index(c) + 1) % len(alphabet)] if c in alphabet else alphabet[0]
    return value[:i] + new + value[i + 1:]


class CallbackClient:
    """Plays the WeCom server towards our webhook: builds plaintext XML, encrypts, signs and posts it."""

    def __init__(self, token: str, encoding_aes_key: str, corp_id: str, agent_id: int | str,
                 transport: Any, *, path: str = DEFAULT_CALLBACK_PATH,
                 now: Callable[[], float] = time.time, timeout: float = 10.0,
                 linked_form: str = "id", linked_receive_id: str = "own"):
        """transport: a base URL (requests), a Flask test client, or a callable(method, path, query, body).

        A linked-corp member ("CorpID/UserID") is sent in one of the two forms docs/reach.md describes:
        `linked_form="id"` puts the whole id in FromUserName (互联企业); `"corp"` puts the bare UserID in
        FromUserName and the member's corp in ToUserName (上下游). `linked_receive_id="member"` also
        encrypts such a callback for the member's corp instead of ours (the bot accepts that only for
        corps listed in `[wecom] linked_corp_ids`).
        """
        if linked_form not in ("id", "corp") or linked_receive_id not in ("own", "member"):
            raise ValueError("linked_form is 'id' or 'corp'; linked_receive_id is 'own' or 'member'")
        self.token, self.corp_id, self.agent_id = token, corp_id, agent_id
        self.crypto = WeChatCrypto(token, encoding_aes_key, corp_id)
        self.path, self.now, self.timeout = path, now, timeout
        self.linked_form, self.linked_receive_id = linked_form, linked_receive_id
        self._transport = transport

    # --- plaintext builders -----------------------------------------------------------------
    def addressing(self, user: str) -> tuple[str, str]:
        """(ToUserName, FromUserName) WeCom would write for this member id in this client's linked form."""
        corp, sep, bare = user.partition("/")
        if sep and self.linked_form == "corp":
            return corp, bare
        return self.corp_id, user

    def receive_id(self, plaintext_xml: str) -> str:
        """The receive-id a callback is encrypted for: our CorpID, or the member's corp (see __init__)."""
        if self.linked_receive_id == "member":
            return self._to_user(plaintext_xml)
        return self.corp_id

    def _to_user(self, plaintext_xml: str) -> str:
        try:
            return ET.fromstring(plaintext_xml).findtext("ToUserName") or self.corp_id
        except ET.ParseError:  # tests send malformed plaintexts on purpose
            return self.corp_id

    def _xml(self, user: str, msgtype: str, fields: str, *, msg_id: int | None = None,
             with_id: bool = True) -> str:
        to, user = self.addressing(user)
        head = (f"<xml><ToUserName>{cdata(to)}</ToUserName><FromUserName>{cdata(user)}</FromUserName>"
                f"<CreateTime>{int(self.now())}</CreateTime><MsgType>{cdata(msgtype)}</MsgType>")
        msg = f"<MsgId>{msg_id if msg_id is not None else next(_MSG_IDS)}</MsgId>" if with_id else ""
        return f"{head}{fields}{msg}<AgentID>{self.agent_id}</AgentID></xml>"

    def text(self, user: str, content: str, msg_id: int | None = None) -> str:
        """A text message from a member."""
        return self._xml(user, "text", f"<Content>{cdata(content)}</Content>", msg_id=msg_id)

    def image(self, user: str, media_id: str, pic_url: str = "", msg_id: int | None = None) -> str:
        """An image message (PicUrl + MediaId)."""
        return self._xml(user, "image", f"<PicUrl>{cdata(pic_url)}</PicUrl><MediaId>{cdata(media_id)}</MediaId>",
                         msg_id=msg_id)

    def file(self, user: str, media_id: str, filename: str, msg_id: int | None = None) -> str:
        """A file message (MsgType=file, MediaId, FileName); undocumented by WeCom, see WECOM.md §2.1."""
        return self._xml(user, "file", f"<MediaId>{cdata(media_id)}</MediaId><FileName>{cdata(filename)}</FileName>",
                         msg_id=msg_id)

    def voice(self, user: str, media_id: str, msg_id: int | None = None) -> str:
        """A voice message (AMR)."""
        return self._xml(user, "voice", f"<MediaId>{cdata(media_id)}</MediaId><Format>{cdata('amr')}</Format>",
                         msg_id=msg_id)

    def video(self, user: str, media_id: str, thumb_media_id: str = "", msg_id: int | None = None) -> str:
        """A video message."""
        return self._xml(user, "video", f"<MediaId>{cdata(media_id)}</MediaId>"
                                        f"<ThumbMediaId>{cdata(thumb_media_id)}</ThumbMediaId>", msg_id=msg_id)

    def location(self, user: str, x: float, y: float, label: str, msg_id: int | None = None) -> str:
        """A location message."""
        fields = (f"<Location_X>{x}</Location_X><Location_Y>{y}</Location_Y><Scale>15</Scale>"
                  f"<Label>{cdata(label)}</Label>")
        return self._xml(user, "location", fields, msg_id=msg_id).replace(
            "</AgentID></xml>", f"</AgentID><AppType>{cdata('wxwork')}</AppType></xml>")

    def _event(self, user: str, event: str, key: str, extra: str = "") -> str:
        fields = f"<Event>{cdata(event)}</Event><EventKey>{cdata(key)}</EventKey>{extra}"
        return self._xml(user, "event", fields, with_id=False)

    def enter_agent(self, user: str) -> str:
        """The member opened the app (EventKey empty)."""
        return self._event(user, "enter_agent", "")

    def click(self, user: str, key: str) -> str:
        """A click on a custom menu item."""
        return self._event(user, "click", key)

    def template_card_event(self, user: str, event_key: str, task_id: str, card_type: str,
                            response_code: str, selected: dict[str, list[str]] | None = None) -> str:
        """A button click / submit on a template card, with SelectedItems as in WECOM.md §2.2."""
        fields = f"<TaskId>{cdata(task_id)}</TaskId><CardType>{cdata(card_type)}</CardType>" \
                 f"<ResponseCode>{cdata(response_code)}</ResponseCode>"
        xml = self._event(user, "template_card_event", event_key, fields)
        if selected:
            items = "".join(
                f"<SelectedItem><QuestionKey>{cdata(q)}</QuestionKey><OptionIds>"
                + "".join(f"<OptionId>{cdata(o)}</OptionId>" for o in options)
                + "</OptionIds></SelectedItem>"
                for q, options in selected.items())
            xml = xml[: -len("</xml>")] + f"<SelectedItems>{items}</SelectedItems></xml>"
        return xml

    def template_card_menu_event(self, user: str, event_key: str, task_id: str, card_type: str,
                                 response_code: str) -> str:
        """A click in a card's top-right action menu."""
        fields = f"<TaskId>{cdata(task_id)}</TaskId><CardType>{cdata(card_type)}</CardType>" \
                 f"<ResponseCode>{cdata(response_code)}</ResponseCode>"
        return self._event(user, "template_card_menu_event", event_key, fields)

    # --- crypto ------------------------------------------------------------------------------
    def encrypt(self, plaintext: str, receive_id: str | None = None) -> str:
        """Encrypt a plaintext (random16 + len + msg + receive-id, AES-256-CBC) to base64 msg_encrypt."""
        return PrpCrypto(self.crypto.key).encrypt(plaintext, receive_id or self.corp_id).decode()

    def signed_query(self, encrypt: str, *, timestamp: str | None = None, nonce: str | None = None,
                     tamper: str | None = None) -> dict[str, str]:
        """msg_signature/timestamp/nonce for an encrypted payload, optionally tampered after signing."""
        if tamper is not None and tamper not in TAMPER_FIELDS:
            raise ValueError(f"tamper must be one of {TAMPER_FIELDS}")
        timestamp = str(timestamp if timestamp is not None else int(self.now()))
        nonce = str(nonce if nonce is not None else random.randint(10**8, 10**10))
        query = {"msg_signature": sign(self.token, timestamp, nonce, encrypt), "timestamp": timestamp,
                 "nonce": nonce}
        if tamper in ("signature", "timestamp", "nonce"):
            key = "msg_signature" if tamper == "signature" else tamper
            query[key] = flip(query[key])
        return query

    def decrypt_reply(self, body: str) -> str:
        """Decrypt a passive (encrypted) reply body; '' for an empty body."""
        if not body.strip():
            return ""
        root = ET.fromstring(body)
        return self.crypto.decrypt_message(body, root.findtext("MsgSignature"), root.findtext("TimeStamp"),
                                           root.findtext("Nonce"))

    # --- senders -----------------------------------------------------------------------------
    def send(self, plaintext_xml: str, *, timestamp: str | None = None, nonce: str | None = None,
             tamper: str | None = None) -> CallbackResponse:
        """Encrypt, sign and POST a plaintext callback; `tamper` corrupts one field after signing."""
        receive_id = self.receive_id(plaintext_xml)
        encrypt = self.encrypt(plaintext_xml, receive_id)
        query = self.signed_query(encrypt, timestamp=timestamp, nonce=nonce, tamper=tamper)
        if tamper == "encrypt":
            encrypt = flip(encrypt)
        return self.raw_post(envelope(self._to_user(plaintext_xml), encrypt, self.agent_id).encode(), query)

    def verify_url(self, echostr_plain: str, *, timestamp: str | None = None, nonce: str | None = None,
                   tamper: str | None = None) -> CallbackResponse:
        """The console's URL check: GET with an encrypted echostr."""
        echostr = self.encrypt(echostr_plain)
        query = self.signed_query(echostr, timestamp=timestamp, nonce=nonce, tamper=tamper)
        query["echostr"] = flip(echostr) if tamper == "encrypt" else echostr
        return self.raw_get(query)

    def raw_post(self, body: bytes, query: dict[str, str]) -> CallbackResponse:
        """POST arbitrary bytes to the webhook (for malformed-body tests)."""
        return self._request("POST", query, body)

    def raw_get(self, query: dict[str, str]) -> CallbackResponse:
        """GET the webhook with an arbitrary query."""
        return self._request("GET", query, None)

    def _request(self, method: str, query: dict[str, str], body: bytes | None) -> CallbackResponse:
        t = self._transport
        if isinstance(t, str):
            resp = requests.request(method, t.rstrip("/") + self.path, params=query, data=body,
                                    headers={"Content-Type": "text/xml"} if body is not None else None,
                                    timeout=self.timeout)
            return CallbackResponse(resp.status_code, resp.text)
        if hasattr(t, "application"):  # Flask / werkzeug test client
            resp = t.open(self.path, method=method, query_string=query, data=body,
                          content_type="text/xml" if body is not None else None)
            return CallbackResponse(resp.status_code, resp.get_data(as_text=True))
        return t(method, self.path, query, body)
