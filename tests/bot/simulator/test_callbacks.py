"""The callback sender produces exactly what WeCom sends, checked against the official vector and an
independent decryptor."""

from __future__ import annotations

import base64
import struct
import xml.etree.ElementTree as ET

import pytest
import xmltodict
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.work import parse_message
from wechatpy.work.crypto import WeChatCrypto

from bot.simulator import CallbackClient, CallbackResponse, envelope, serve_in_thread, sign
from tests.bot.simulator.conftest import AES_KEY, AGENT_ID, CORP_ID, TOKEN, make_webhook


def independent_decrypt(encrypt: str, encoding_aes_key: str, receive_id: str) -> str:
    """WECOM.md §1.5 written from scratch: AES-256-CBC, IV=key[:16], PKCS#7/32, random16+len+msg+id."""
    key = base64.b64decode(encoding_aes_key + "=")
    assert len(key) == 32
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
    assert len(plain) % 32 == 0
    pad = plain[-1]
    assert 1 <= pad <= 32 and plain[-pad:] == bytes([pad]) * pad
    body = plain[:-pad]
    (length,) = struct.unpack(">I", body[16:20])
    assert body[20 + length:].decode() == receive_id
    return body[20:20 + length].decode("utf-8")


@pytest.fixture
def now():
    return lambda: 1700000000.0


@pytest.fixture
def webhook():
    return make_webhook()


@pytest.fixture
def cb(webhook, now):
    return CallbackClient(TOKEN, AES_KEY, CORP_ID, AGENT_ID, webhook.test_client(), now=now)


def test_official_vector_decrypts_with_our_sign_and_wechatpy():
    echostr = "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
    assert sign(TOKEN, "1476416373", "47744683", echostr) == "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb"
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    assert crypto.check_signature("012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683",
                                  echostr) == "1288432023552776189"
    assert independent_decrypt(echostr, AES_KEY, CORP_ID) == "1288432023552776189"


def test_sent_callback_decrypts_independently_and_signature_checks():
    seen = []

    def transport(method, path, query, body):
        seen.append((method, path, query, body))
        return CallbackResponse(200, "")

    cb = CallbackClient(TOKEN, AES_KEY, CORP_ID, AGENT_ID, transport)
    plain = cb.text("zhangsan", "你好 ]]> <b>&amp;", msg_id=1456453720)
    assert cb.send(plain, timestamp="1476422779", nonce="1597212914").status == 200
    method, path, query, body = seen[0]
    assert (method, path) == ("POST", "/wecom/callback")
    outer = xmltodict.parse(body)["xml"]
    assert outer["ToUserName"] == CORP_ID and outer["AgentID"] == str(AGENT_ID)
    assert body.decode().startswith(f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[")
    assert query["msg_signature"] == sign(TOKEN, "1476422779", "1597212914", outer["Encrypt"])
    assert independent_decrypt(outer["Encrypt"], AES_KEY, CORP_ID) == plain
    assert xmltodict.parse(plain)["xml"]["Content"] == "你好 ]]> <b>&amp;"


def test_webhook_receives_parseable_messages(cb, webhook):
    xmls = [cb.text("u1", "hi"), cb.image("u1", "MID"), cb.voice("u1", "VID"),
            cb.location("u1", 23.1, 113.3, "广州"), cb.enter_agent("u1"), cb.click("u1", "MENU_1")]
    for xml in xmls:
        assert cb.send(xml).status == 200
    msgs = [parse_message(p) for p in webhook.received]
    assert [m.type for m in msgs] == ["text", "image", "voice", "location", "event", "event"]
    assert msgs[0].content == "hi" and msgs[0].source == "u1" and msgs[0].agent == AGENT_ID
    assert msgs[0].time == 1700000000
    assert msgs[4].event == "enter_agent" and msgs[5].key == "MENU_1"
    assert msgs[0].id != int(xmltodict.parse(webhook.received[1])["xml"]["MsgId"])
    assert msgs[0].id < 2**63


def test_file_message_fields(cb):
    doc = xmltodict.parse(cb.file("u1", "M1", "申报书.pdf"))["xml"]
    assert (doc["MsgType"], doc["MediaId"], doc["FileName"]) == ("file", "M1", "申报书.pdf")
    assert "MsgId" in doc


def test_template_card_event_matches_documented_shape(cb):
    xml = cb.template_card_event("u1", "vote:submit:1", "task-1", "vote_interaction", "RC1",
                                 {"q1": ["a", "b"], "q2": ["c"]})
    root = ET.fromstring(xml)
    assert [c.tag for c in root] == ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "EventKey",
                                     "TaskId", "CardType", "ResponseCode", "AgentID", "SelectedItems"]
    items = root.find("SelectedItems").findall("SelectedItem")
    assert [i.findtext("QuestionKey") for i in items] == ["q1", "q2"]
    assert [o.text for o in items[0].find("OptionIds").findall("OptionId")] == ["a", "b"]
    assert "<OptionIds><OptionId><![CDATA[a]]></OptionId><OptionId><![CDATA[b]]></OptionId></OptionIds>" in xml
    assert root.find("MsgId") is None
    plain = ET.fromstring(cb.template_card_event("u1", "k", "t", "button_interaction", "RC", None))
    assert plain.find("SelectedItems") is None


@pytest.mark.parametrize("field", ["signature", "nonce", "timestamp", "encrypt"])
def test_tampered_callbacks_are_refused(cb, webhook, field):
    assert cb.send(cb.text("u1", "x"), tamper=field).status == 403
    assert webhook.received == []


def test_verify_url_round_trip_and_tamper(cb):
    assert cb.verify_url("1288432023552776189").body == "1288432023552776189"
    assert cb.verify_url("123", tamper="signature").status == 403


def test_raw_post_and_envelope(cb, webhook):
    enc = cb.encrypt("<xml><MsgType>text</MsgType></xml>")
    body = envelope(CORP_ID, enc, AGENT_ID).encode()
    assert cb.raw_post(body, cb.signed_query(enc, timestamp="1", nonce="2")).status == 200
    assert cb.raw_post(b"not xml", {"msg_signature": "x", "timestamp": "1", "nonce": "2"}).status == 403


def test_passive_reply_decrypts(now):
    app = make_webhook(passive_reply="<xml><MsgType><![CDATA[text]]></MsgType><Content>收到</Content></xml>")
    cb = CallbackClient(TOKEN, AES_KEY, CORP_ID, AGENT_ID, app.test_client(), now=now)
    resp = cb.send(cb.text("u1", "hi"))
    assert "收到" in cb.decrypt_reply(resp.body)
    assert cb.decrypt_reply("") == ""


def test_url_transport_over_http():
    app = make_webhook()
    with serve_in_thread(app) as server:
        cb = CallbackClient(TOKEN, AES_KEY, CORP_ID, AGENT_ID, server.url, timeout=5)
        assert cb.send(cb.text("u1", "over http")).status == 200
        assert cb.verify_url("42").body == "42"
    assert "over http" in app.received[0]
