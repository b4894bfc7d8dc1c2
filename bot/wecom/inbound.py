"""Inbound messages and events as small typed values (wechatpy lacks file and template-card events)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import members
from .crypto import safe_xml


@dataclass(frozen=True)
class Inbound:
    """Common fields of every callback."""

    userid: str
    create_time: int
    agent_id: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    kind = "unknown"

    @property
    def dedupe_key(self) -> str:
        """The key WeCom's retries share: MsgId, else sender + time + event details; a card page's choice is
        keyed by its own submission (bot/web/cards.py), never by a one-second time."""
        msg_id = self.raw.get("MsgId")
        if msg_id:
            return f"msg:{msg_id}"
        submission = self.raw.get("Submission")
        if submission:
            return f"page:{self.userid}:{self.raw.get('TaskId') or ''}:{submission}"
        parts = [self.userid, str(self.create_time), self.raw.get("Event") or self.kind,
                 self.raw.get("EventKey") or "", self.raw.get("TaskId") or "", self.raw.get("ResponseCode") or ""]
        return "evt:" + ":".join(parts)

    def as_record(self) -> dict[str, Any]:
        """A JSON-able record of the callback for the inbound log."""
        return {"kind": self.kind, **{k: v for k, v in self.raw.items() if k != "Encrypt"}}


@dataclass(frozen=True)
class Text(Inbound):
    """A text message."""

    content: str = ""
    kind = "text"


@dataclass(frozen=True)
class Media(Inbound):
    """An image, file, voice or video message with a MediaId (valid 3 days)."""

    media_type: str = "file"
    media_id: str = ""
    filename: str = ""
    kind = "media"


@dataclass(frozen=True)
class Location(Inbound):
    """A location message."""

    label: str = ""
    kind = "location"


@dataclass(frozen=True)
class Event(Inbound):
    """A plain event: enter_agent, click (menu), view, subscribe …"""

    event: str = ""
    key: str = ""
    kind = "event"


@dataclass(frozen=True)
class CardEvent(Inbound):
    """A template_card_event (button or submit clicked) or template_card_menu_event."""

    event: str = "template_card_event"
    key: str = ""
    task_id: str = ""
    card_type: str = ""
    response_code: str = ""
    selected: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kind = "card"


def _selected(raw: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    box = raw.get("SelectedItems") or {}
    items = box.get("SelectedItem") if isinstance(box, dict) else None
    result: dict[str, tuple[str, ...]] = {}
    for item in items or []:
        if not isinstance(item, dict):
            continue
        ids = (item.get("OptionIds") or {}).get("OptionId") if isinstance(item.get("OptionIds"), dict) else None
        result[str(item.get("QuestionKey") or "")] = tuple(str(i) for i in (ids or []) if i is not None)
    return result


def parse(plaintext: str, own_corp: str = "") -> Inbound:
    """Turn decrypted callback XML into a typed value (unknown types become plain `Inbound`).

    `userid` is the sender's member id: a linked-corp member's is "CorpID/UserID" in either form WeCom
    may use (see `members.from_callback`); without `own_corp` FromUserName is taken as it is.
    """
    return from_raw(safe_xml(plaintext), own_corp)


def from_record(record: dict[str, Any], own_corp: str = "") -> Inbound:
    """The callback again from its stored record (`Inbound.as_record`): what the routing worker routes."""
    return from_raw({k: v for k, v in record.items() if k != "kind"}, own_corp)


def from_raw(raw: dict[str, Any], own_corp: str = "") -> Inbound:
    """A typed value from the callback's decrypted fields (see `parse`)."""
    sender = str(raw.get("FromUserName") or "")
    if own_corp and sender:
        sender = members.from_callback(sender, str(raw.get("ToUserName") or ""), own_corp)
    common = {"userid": sender, "create_time": int(str(raw.get("CreateTime") or 0)),
              "agent_id": str(raw.get("AgentID") or ""), "raw": raw}
    msg_type = str(raw.get("MsgType") or "").lower()
    if msg_type == "text":
        return Text(**common, content=str(raw.get("Content") or ""))
    if msg_type in ("image", "file", "voice", "video"):
        return Media(**common, media_type=msg_type, media_id=str(raw.get("MediaId") or ""),
                     filename=str(raw.get("FileName") or raw.get("Title") or ""))
    if msg_type == "location":
        return Location(**common, label=str(raw.get("Label") or ""))
    if msg_type == "event":
        event = str(raw.get("Event") or "")
        if event in ("template_card_event", "template_card_menu_event"):
            return CardEvent(**common, event=event, key=str(raw.get("EventKey") or ""),
                             task_id=str(raw.get("TaskId") or ""), card_type=str(raw.get("CardType") or ""),
                             response_code=str(raw.get("ResponseCode") or ""), selected=_selected(raw))
        return Event(**common, event=event.lower(), key=str(raw.get("EventKey") or ""))
    return Inbound(**common)
