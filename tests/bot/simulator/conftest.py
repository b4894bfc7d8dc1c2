"""Fixtures for the WeCom stand-in tests: a fake API, a served fake, and a tiny decrypting webhook."""

from __future__ import annotations

import pytest
from flask import Flask, request
from wechatpy.work.crypto import WeChatCrypto

from bot.simulator import FakeWeCom, serve_in_thread

# Official WeCom test vector (WECOM.md §1.5).
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"
AGENT_ID = 1000002
SECRET = "test-secret"


@pytest.fixture
def fake() -> FakeWeCom:
    """A fresh fake WeCom API with the test credentials."""
    return FakeWeCom(corp_id=CORP_ID, corp_secret=SECRET, agent_id=AGENT_ID)


@pytest.fixture
def api(fake):
    """Flask test client of the fake."""
    return fake.test_client()


@pytest.fixture
def token(api) -> str:
    """A valid access token."""
    return api.get("/cgi-bin/gettoken", query_string={"corpid": CORP_ID, "corpsecret": SECRET}).json["access_token"]


@pytest.fixture
def served(fake):
    """The fake served over HTTP on loopback."""
    handle = serve_in_thread(fake)
    yield handle
    handle.stop()


def make_webhook(passive_reply: str = "") -> Flask:
    """A minimal stand-in for the real webhook: verifies, decrypts, records plaintexts in app.received."""
    app = Flask("test_webhook")
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    app.received = []

    @app.route("/wecom/callback", methods=["GET", "POST"])
    def callback():
        args = request.args
        try:
            if request.method == "GET":
                return crypto.check_signature(args["msg_signature"], args["timestamp"], args["nonce"],
                                              args["echostr"])
            plain = crypto.decrypt_message(request.get_data(), args["msg_signature"], args["timestamp"],
                                           args["nonce"])
        except Exception:  # bad signature, bad base64, wrong corp id: the tests only check it is refused
            return "bad signature", 403
        app.received.append(plain)
        if passive_reply:
            return crypto.encrypt_message(passive_reply, args["nonce"], args["timestamp"])
        return ""

    return app
