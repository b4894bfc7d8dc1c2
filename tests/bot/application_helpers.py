"""Shared helpers for the application end-to-end tests."""
from __future__ import annotations

import re
import struct
import zlib

from bot.sample import ensure_roster
from tests.bot.conftest import deliver, texts
from workflows.core import stages
from workflows.apply.creditcode import with_check_digits

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!doctype html><html><script>alert(1)</script></html>"
CODE_WJ = with_check_digits("91440203MA4UABC1")     # 武江区
CODE_WJ2 = with_check_digits("91440203MA4UXYW2")
CODE_GZ = with_check_digits("91440101MA5CKL01")     # 广州, not Shaoguan
APPLICANT = "qiye1"
RECOMMENDER = "tuijian-wj"
FACTS = ["韶关市武江精工制造有限公司", CODE_WJ, "1", "1", "1", "张三", "13800138000"]
ELIGIBILITY = ["是", "否"]  # no_major_accident (must), performance_excellence (info)
REQUIRED = ["application_form", "self_assessment", "business_license", "certificates", "financial_statements",
            "safety_declaration"]


def png() -> bytes:
    """A tiny valid PNG."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


def pdf(tag: str) -> bytes:
    """A distinct small PDF (different content, different SHA-256)."""
    return PDF.replace(b"/Catalog", f"/Catalog /T ({tag})".encode())


def open_apply(rt) -> None:
    """Roster loaded and the application stage open."""
    with rt.sessions.begin() as s:
        ensure_roster(s, rt.clock())
        for key in ("call", "training", "apply"):
            stages.open_stage(s, rt.settings, key, actor="system", now=rt.clock())


def say(cb, rt, wecom, userid: str, text: str) -> list[str]:
    """Send a text, deliver, and return the new replies."""
    before = len(texts(wecom, userid))
    rt.clock.advance(seconds=10)  # stay under WeCom's 30 messages a minute per member
    assert cb.send(cb.text(userid, text)).status == 200
    deliver(rt)
    return texts(wecom, userid)[before:]


def send_file(cb, rt, wecom, userid: str, name: str, content: bytes, kind: str = "file") -> list[str]:
    """Send a chat attachment through the stand-in, deliver (download happens in the sender)."""
    before = len(texts(wecom, userid))
    rt.clock.advance(seconds=10)
    media = wecom.store_media(kind, name, "application/octet-stream", content)
    xml = cb.image(userid, media.media_id) if kind == "image" else cb.file(userid, media.media_id, name)
    assert cb.send(xml).status == 200
    deliver(rt)
    return texts(wecom, userid)[before:]


def upload_path(message: str) -> str:
    """The /upload/<token> path from a prompt's link."""
    m = re.search(r"\((https?://[^)\s]+(/upload/[^)\s]+))\)", message)
    assert m, message
    return m.group(2)


def page_upload(http, path: str, name: str, content: bytes):
    """POST a file to the upload page like a browser form (body built in memory: the test client
    would spool a large one to a temporary file it never closes)."""
    boundary = "----awardbot-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return http.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def fill_facts(cb, rt, wecom, userid: str = APPLICANT, facts: list[str] | None = None) -> list[str]:
    """申报, then every enterprise fact and eligibility answer; returns the last replies."""
    say(cb, rt, wecom, userid, "申报")
    out: list[str] = []
    for answer in (facts or FACTS) + ELIGIBILITY:
        out = say(cb, rt, wecom, userid, answer)
    return out


def last_card(wecom, userid: str) -> dict:
    """The newest template card sent to a member."""
    cards = [b["template_card"] for b in wecom.messages_to(userid) if b.get("msgtype") == "template_card"]
    assert cards
    return cards[-1]


def click(cb, wecom, userid: str, card: dict, key: str):
    """Click a card button as WeCom would (fresh response code)."""
    code = wecom.issue_response_code(card["task_id"], userid)
    return cb.send(cb.template_card_event(userid, key, card["task_id"], card["card_type"], code))


def confirm_last(cb, rt, wecom, userid: str, *, answer: str = "yes") -> dict:
    """Answer the newest confirmation card (确认 by default, "no" for 取消), deliver; return the card."""
    card = last_card(wecom, userid)
    assert card["button_list"][0]["key"].startswith("confirm:yes:"), card["main_title"]
    button = card["button_list"][0 if answer == "yes" else 1]
    rt.clock.advance(seconds=10)
    click(cb, wecom, userid, card, button["key"])
    deliver(rt)
    return card


def recommend(cb, rt, wecom, userid: str, decision: str, opinion: str) -> None:
    """A recommender clicks a decision on the newest review card, writes the opinion and confirms."""
    card = [b["template_card"] for b in wecom.messages_to(userid) if b.get("msgtype") == "template_card"
            and b["template_card"]["button_list"][0]["key"].startswith("rec:")][-1]
    key = next(b["key"] for b in card["button_list"] if b["key"].startswith(f"rec:{decision}:"))
    rt.clock.advance(seconds=10)
    click(cb, wecom, userid, card, key)
    deliver(rt)
    say(cb, rt, wecom, userid, opinion)
    confirm_last(cb, rt, wecom, userid)
