"""Crypto against WeCom's published vector, and parsing of every inbound kind (WECOM.md §1.5, §2)."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.simulator import CallbackClient
from bot.wecom import inbound
from bot.wecom.crypto import CallbackRejected, Verifier

OFFICIAL = Verifier("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
                    "ww1436e0e65a779aee")
GET = {"msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "timestamp": "1476416373", "nonce": "47744683",
       "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="}


def test_official_url_verification_vector():
    assert OFFICIAL.verify_url(GET, now_ts=1476416373) == "1288432023552776189"


def test_official_vector_is_refused_as_a_replay_today():
    with pytest.raises(CallbackRejected) as err:
        OFFICIAL.verify_url(GET, now_ts=dt.datetime(2026, 11, 27).timestamp())
    assert err.value.status == 403


def _roundtrip(xml: str) -> inbound.Inbound:
    client = CallbackClient("tok", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "wwcorp", 7, lambda *a: None,
                            now=lambda: 1700000000)
    v = Verifier("tok", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "wwcorp")
    enc = client.encrypt(xml)
    q = client.signed_query(enc)
    body = f"<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    return inbound.parse(v.decrypt(q, body.encode(), 1700000000))


def make() -> CallbackClient:
    return CallbackClient("tok", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "wwcorp", 7, lambda *a: None,
                          now=lambda: 1700000000)


def test_text_image_file_voice_location_events_parse():
    c = make()
    t = _roundtrip(c.text("u1", "申报 <b>&amp;", msg_id=5))
    assert isinstance(t, inbound.Text) and t.content == "申报 <b>&amp;" and t.dedupe_key == "msg:5"
    img = _roundtrip(c.image("u1", "MEDIA1", "http://pic"))
    assert isinstance(img, inbound.Media) and (img.media_type, img.media_id) == ("image", "MEDIA1")
    f = _roundtrip(c.file("u1", "MEDIA2", "申请表.pdf"))
    assert isinstance(f, inbound.Media) and (f.media_type, f.filename) == ("file", "申请表.pdf")
    v = _roundtrip(c.voice("u1", "MEDIA3"))
    assert isinstance(v, inbound.Media) and v.media_type == "voice"
    loc = _roundtrip(c.location("u1", 24.8, 113.6, "韶关市"))
    assert isinstance(loc, inbound.Location) and loc.label == "韶关市"
    enter = _roundtrip(c.enter_agent("u1"))
    assert isinstance(enter, inbound.Event) and enter.event == "enter_agent"
    click = _roundtrip(c.click("u1", "help"))
    assert isinstance(click, inbound.Event) and (click.event, click.key) == ("click", "help")
    assert click.dedupe_key.startswith("evt:u1:1700000000:")


def test_template_card_event_with_one_selected_option():
    e = _roundtrip(make().template_card_event("u1", "vote:submit:3", "vote-abc", "vote_interaction", "RC1",
                                              {"ballot-3": ["app-1"]}))
    assert isinstance(e, inbound.CardEvent)
    assert (e.key, e.task_id, e.card_type, e.response_code) == ("vote:submit:3", "vote-abc", "vote_interaction", "RC1")
    assert e.selected == {"ballot-3": ("app-1",)}


def test_template_card_event_with_several_items_and_options():
    e = _roundtrip(make().template_card_event("u1", "k", "t", "multiple_interaction", "RC2",
                                              {"q1": ["a", "b", "c"], "q2": ["d"]}))
    assert e.selected == {"q1": ("a", "b", "c"), "q2": ("d",)}
    assert "RC2" in e.dedupe_key


def test_button_click_without_selection():
    e = _roundtrip(make().template_card_event("u1", "rec:yes:1", "t", "button_interaction", "RC3", None))
    assert e.selected == {} and e.key == "rec:yes:1"
