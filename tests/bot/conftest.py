"""End-to-end fixtures: the real app behind the encrypted webhook, and the local WeCom stand-in."""
from __future__ import annotations

import pytest

from bot.app import create_app
from bot.routing import RoutingWorker
from bot.runtime import Runtime, build_runtime
from bot.simulator import CallbackClient, FakeWeCom, serve_in_thread


@pytest.fixture
def wecom(settings, clock):
    """The WeCom stand-in over real HTTP on loopback (the sender really calls it)."""
    w = settings.wecom
    fake = FakeWeCom(corp_id=w.corp_id, corp_secret=w.secret, agent_id=w.agent_id,
                     now=lambda: clock().timestamp())
    handle = serve_in_thread(fake)
    fake.url = handle.url
    yield fake
    handle.stop()


@pytest.fixture
def bot_settings(settings, wecom):
    return settings.with_overrides(wecom={"api_base_url": wecom.url, "oauth_base_url": wecom.url,
                                          "login_base_url": wecom.url, "request_timeout_seconds": 2})


@pytest.fixture
def rt(bot_settings, engine, clock) -> Runtime:
    runtime = build_runtime(bot_settings, clock=clock, engine=engine)
    runtime.sender.rng.seed(7)
    # As under `serve`: the webhook records callbacks and a routing worker routes them (bot/routing.py).
    runtime.dispatcher.worker = RoutingWorker(runtime.sessions, runtime.dispatcher)
    return runtime


def routed_after_each_request(wsgi_app, rt: Runtime):
    """The worker's thread, made deterministic: after every request the worker routes what it recorded."""
    def wrapped(environ, start_response):
        try:
            return wsgi_app(environ, start_response)
        finally:
            if rt.dispatcher.worker is not None:
                rt.dispatcher.worker.drain()
    return wrapped


@pytest.fixture
def app(rt):
    application = create_app(rt)
    application.testing = True
    application.wsgi_app = routed_after_each_request(application.wsgi_app, rt)
    return application


@pytest.fixture
def http(app):
    return app.test_client()


@pytest.fixture
def cb(http, rt, clock) -> CallbackClient:
    w = rt.settings.wecom
    return CallbackClient(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, http, now=lambda: clock().timestamp())


def deliver(rt: Runtime, rounds: int = 50) -> int:
    """Run the sender until nothing is due now; return how many rows were attempted."""
    total = 0
    for _ in range(rounds):
        n = rt.sender.run_once()
        if n == 0:
            break
        total += n
    return total


def texts(wecom: FakeWeCom, userid: str) -> list[str]:
    """The text/markdown contents delivered to a member, oldest first."""
    out = []
    for body in wecom.messages_to(userid):
        kind = body.get("msgtype")
        if kind in ("text", "markdown"):
            out.append(body[kind]["content"])
        elif kind == "template_card":
            out.append(str(body["template_card"].get("main_title", {}).get("title", "")))
        elif kind == "textcard":
            out.append(f'{body["textcard"]["title"]}\n{body["textcard"]["description"]}\n{body["textcard"]["url"]}')
    return out
