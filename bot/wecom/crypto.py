"""Callback verification: signature first (constant time), replay window, then decryption."""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

import xmltodict
from wechatpy.work.crypto import WeChatCrypto

_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class CallbackRejected(Exception):
    """The callback must be refused with `status`; nothing was read or written."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status} {reason}")


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """WeCom's msg_signature: sha1 of the four values sorted and concatenated."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode("utf-8")).hexdigest()


def safe_xml(body: bytes | str) -> dict:
    """Parse XML with DOCTYPE/ENTITY refused outright (no entity expansion, no XXE)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if _FORBIDDEN.search(raw):
        raise CallbackRejected(400, "doctype")
    try:
        doc = xmltodict.parse(raw, disable_entities=True, force_list=("SelectedItem", "OptionId"))
    except Exception as exc:  # expat errors and friends
        raise CallbackRejected(400, "malformed xml") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("xml"), dict):
        raise CallbackRejected(400, "not a WeCom xml document")
    return doc["xml"]


@dataclass(frozen=True)
class Verifier:
    """Checks and decrypts callbacks for one corp and app."""

    token: str
    encoding_aes_key: str
    corp_id: str
    tolerance_seconds: int = 300
    # Other receive-ids accepted after the signature: configured linked (上下游) corps, see docs/reach.md.
    linked_corp_ids: tuple[str, ...] = ()

    def _crypto(self, receive_id: str | None = None) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.encoding_aes_key, receive_id or self.corp_id)

    def _check_params(self, args: dict[str, str], now_ts: float) -> None:
        sig, ts, nonce = args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")
        if not (sig and ts and nonce):
            raise CallbackRejected(403, "missing signature parameters")
        if not ts.isdigit() or abs(int(ts) - now_ts) > self.tolerance_seconds:
            raise CallbackRejected(403, "stale or invalid timestamp")

    def _check_signature(self, args: dict[str, str], encrypted: str) -> None:
        expected = signature(self.token, args["timestamp"], args["nonce"], encrypted)
        if not hmac.compare_digest(expected.encode(), args["msg_signature"].encode("utf-8", "replace")):
            raise CallbackRejected(403, "bad signature")

    def verify_url(self, args: dict[str, str], now_ts: float) -> str:
        """Answer WeCom's GET verification: the decrypted echostr."""
        echostr = args.get("echostr", "")
        if not echostr:
            raise CallbackRejected(400, "missing echostr")
        self._check_params(args, now_ts)
        self._check_signature(args, echostr)
        try:
            return self._crypto().check_signature(args["msg_signature"], args["timestamp"], args["nonce"], echostr)
        except Exception as exc:
            raise CallbackRejected(400, "undecryptable echostr") from exc

    def decrypt(self, args: dict[str, str], body: bytes, now_ts: float) -> str:
        """Verify and decrypt a POSTed callback; return the plaintext XML."""
        self._check_params(args, now_ts)
        outer = safe_xml(body)
        encrypted = outer.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise CallbackRejected(400, "no Encrypt element")
        self._check_signature(args, encrypted)
        failure: Exception | None = None
        for receive_id in (self.corp_id, *self.linked_corp_ids):
            try:
                return self._crypto(receive_id).decrypt_message({"Encrypt": encrypted}, args["msg_signature"],
                                                                args["timestamp"], args["nonce"])
            except Exception as exc:  # wrong corp id, wrong key, bad padding, bad base64
                failure = failure or exc
        raise CallbackRejected(400, f"undecryptable ({type(failure).__name__})") from failure
