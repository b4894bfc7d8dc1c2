"""RELIABILITY 1, 2, 3, 5, 6: signature first, replays, idempotent ingest, body limits, hardened XML."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from bot.simulator import CallbackClient, serve_in_thread
from bot.simulator.callbacks import envelope
from workflows.core.models import InboundCallback, OutboxMessage

from .conftest import deliver, texts


def counts(rt) -> tuple[int, int]:
    """(callbacks recorded, messages queued) — the effects a retry must not repeat."""
    with rt.sessions() as s:
        return (s.scalar(select(func.count()).select_from(InboundCallback)),
                s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.action == "send")))


@pytest.mark.parametrize("field", ["signature", "nonce", "timestamp", "encrypt"])
def test_tampered_callback_is_refused_without_side_effects(cb, rt, field):
    r = cb.send(cb.text("qiye1", "帮助"), tamper=field)
    assert r.status in (400, 403)
    assert r.status == 403 or field == "encrypt"
    assert counts(rt) == (0, 0)


def test_other_corp_id_is_refused(rt, http, clock):
    w = rt.settings.wecom
    other = CallbackClient(w.token, w.encoding_aes_key, "wwsomeothercorp", w.agent_id, http,
                           now=lambda: clock().timestamp())
    assert other.send(other.text("qiye1", "帮助")).status == 400
    assert counts(rt) == (0, 0)


@pytest.mark.parametrize("skew,accepted", [(-301, False), (301, False), (-299, True), (299, True)])
def test_replay_window(cb, rt, clock, skew, accepted):
    ts = str(int(clock().timestamp()) + skew)
    r = cb.send(cb.text("qiye1", "帮助"), timestamp=ts)
    assert (r.status == 200) is accepted
    assert counts(rt)[0] == (1 if accepted else 0)


def test_timestamp_must_be_a_number(cb, rt):
    enc = cb.encrypt(cb.text("qiye1", "帮助"))
    q = cb.signed_query(enc)
    q["timestamp"] = "12ab"
    assert cb.raw_post(envelope(rt.settings.wecom.corp_id, enc, 1).encode(), q).status == 403


def test_missing_signature_parameters_are_refused(cb, rt):
    enc = cb.encrypt(cb.text("qiye1", "帮助"))
    assert cb.raw_post(envelope(rt.settings.wecom.corp_id, enc, 1).encode(), {}).status == 403
    assert counts(rt) == (0, 0)


@pytest.mark.parametrize("body", [b"not xml at all", b"<xml><Foo>1</Foo></xml>", b"<xml><Encrypt></Encrypt></xml>",
                                  b"\xff\xfe<<<", b"<a>unclosed"])
def test_malformed_bodies_get_400(cb, rt, body):
    q = cb.signed_query("whatever")
    assert cb.raw_post(body, q).status == 400
    assert counts(rt) == (0, 0)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><Encrypt>&lol3;</Encrypt></xml>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Encrypt>&xxe;</Encrypt></xml>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE])
def test_entity_attacks_are_refused(cb, rt, body):
    r = cb.raw_post(body, cb.signed_query("&lol3;"))
    assert r.status == 400 and "root:" not in r.body
    assert counts(rt) == (0, 0)


def test_doctype_inside_the_encrypted_payload_is_refused(cb, rt):
    r = cb.send(XXE.decode())
    assert r.status == 400
    assert counts(rt) == (0, 0)


def test_oversized_body_with_content_length_gets_413(cb, rt):
    limit = rt.settings.wecom.callback_max_bytes
    big = b"<xml><Encrypt>" + b"A" * limit + b"</Encrypt></xml>"
    assert cb.raw_post(big, cb.signed_query("A" * limit)).status == 413
    assert counts(rt) == (0, 0)


def test_oversized_chunked_body_gets_413_under_the_production_server(app, rt):
    """Chunked bodies through waitress (the production server) are bounded too."""
    import requests
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=2)

    def run() -> None:
        try:
            server.run()
        except OSError:  # the socket closed under the loop at shutdown
            pass
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        port = server.effective_port
        limit = rt.settings.wecom.callback_max_bytes

        def chunks():
            for _ in range(limit // 4096 + 4):
                yield b"A" * 4096
        r = requests.post(f"http://127.0.0.1:{port}/wecom/callback?msg_signature=x&timestamp=1&nonce=1",
                          data=chunks(), timeout=10)
        assert r.status_code == 413
        small = requests.post(f"http://127.0.0.1:{port}/wecom/callback?msg_signature=x&timestamp=1&nonce=1",
                              data=iter([b"<xml></xml>"]), timeout=10)
        assert small.status_code == 403  # read fully and judged on its merits (stale timestamp)
    finally:
        server.close()
    assert counts(rt) == (0, 0)


def test_same_msgid_three_times_acts_once(cb, rt, wecom):
    xml = cb.text("qiye1", "帮助", msg_id=424242)
    assert [cb.send(xml).status for _ in range(3)] == [200, 200, 200]
    assert counts(rt) == (1, 1)
    deliver(rt)
    assert len(texts(wecom, "qiye1")) == 1


def test_same_event_retried_concurrently_acts_once(app, rt, wecom, clock):
    handle = serve_in_thread(app)
    try:
        w = rt.settings.wecom
        client = CallbackClient(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, handle.url,
                                now=lambda: clock().timestamp())
        xml = client.text("qiye2", "帮助", msg_id=777)
        results: list[int] = []
        threads = [threading.Thread(target=lambda: results.append(client.send(xml).status)) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        handle.stop()
    assert results == [200] * 10
    assert counts(rt) == (1, 1)


def test_event_without_msgid_is_deduplicated_by_sender_time_and_key(cb, rt):
    xml = cb.click("qiye1", "help")
    cb.send(xml)
    cb.send(xml)
    assert counts(rt) == (1, 1)


def test_url_verification_answers_the_plain_echostr(cb):
    r = cb.verify_url("1288432023552776189")
    assert (r.status, r.body) == (200, "1288432023552776189")
    assert cb.verify_url("123", tamper="signature").status == 403


def test_callback_does_not_call_wecom_inside_the_request(cb, rt, wecom, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("WeCom called inside a request")
    monkeypatch.setattr(rt.client, "call", boom)
    wecom.set_delay("message/send", 3)
    r = cb.send(cb.text("qiye1", "帮助"))
    assert r.status == 200 and wecom.calls == []


def test_healthz_reports_database_and_backlog(cb, http):
    cb.send(cb.text("qiye1", "帮助"))
    r = http.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["ok"] is True and body["database"] == "ok" and body["outbox"]["pending"] == 1
