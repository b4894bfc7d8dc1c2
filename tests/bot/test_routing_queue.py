"""The webhook records, the routing worker routes (bot/routing.py): exactly once, each member's order, nothing
lost, judged when received. Through the real encrypted webhook; the worker is driven by hand here (the app
fixture's after-request drain is bypassed with a bare test client) or runs in its real thread."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.routing import RoutingWorker, backlog
from bot.serve import start_router_thread
from bot.simulator import CallbackClient
from workflows.core.models import InboundCallback, OutboxMessage

from .application_helpers import open_apply
from .conftest import deliver, texts


@pytest.fixture
def raw_cb(rt, clock) -> CallbackClient:
    """Callbacks through the webhook with nothing routed after the request (the worker is not running)."""
    app = create_app(rt)
    app.testing = True
    w = rt.settings.wecom
    return CallbackClient(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, app.test_client(),
                          now=lambda: clock().timestamp())


def statuses(rt) -> list[tuple[str, str]]:
    with rt.sessions() as s:
        return [(r.userid, r.status) for r in s.scalars(select(InboundCallback).order_by(InboundCallback.id))]


def replies(rt) -> int:
    with rt.sessions() as s:
        return len(list(s.scalars(select(OutboxMessage.id))))


def test_the_webhook_answers_after_recording_and_the_worker_routes(raw_cb, rt, wecom):
    r = raw_cb.send(raw_cb.text("qiye1", "帮助"))
    assert r.status == 200 and r.body == ""
    assert statuses(rt) == [("qiye1", "pending")] and replies(rt) == 0  # recorded, not yet routed
    with rt.sessions() as s:
        assert backlog(s, rt.clock())["pending"] == 1
    rt.dispatcher.worker.drain()
    assert statuses(rt) == [("qiye1", "done")]
    deliver(rt)
    assert len(texts(wecom, "qiye1")) == 1


def test_a_retry_while_pending_is_recorded_once_and_answered_once(raw_cb, rt, wecom):
    xml = raw_cb.text("qiye1", "帮助", msg_id=42)
    for _ in range(3):
        assert raw_cb.send(xml).status == 200
    rt.dispatcher.worker.drain()
    assert raw_cb.send(xml).status == 200  # and after routing
    rt.dispatcher.worker.drain()
    deliver(rt)
    assert statuses(rt) == [("qiye1", "done")] and len(texts(wecom, "qiye1")) == 1


def test_only_each_members_oldest_pending_callback_is_routed_next(raw_cb, rt, wecom):
    for word in ("甲", "乙", "丙"):
        raw_cb.send(raw_cb.text("qiye1", word))
    raw_cb.send(raw_cb.text("qiye2", "丁"))
    worker = rt.dispatcher.worker
    assert worker.run_once() == 2           # qiye1's first and qiye2's only one
    assert statuses(rt) == [("qiye1", "done"), ("qiye1", "pending"), ("qiye1", "pending"), ("qiye2", "done")]
    assert worker.run_once() == 1 and worker.run_once() == 1 and worker.run_once() == 0
    deliver(rt)
    answers = texts(wecom, "qiye1")
    assert [next(w for w in ("甲", "乙", "丙") if w in t) for t in answers] == ["甲", "乙", "丙"]


def test_a_private_card_click_is_routed_in_its_request_after_the_members_earlier_callbacks(raw_cb, rt, monkeypatch):
    raw_cb.send(raw_cb.text("qiye1", "甲"))
    raw_cb.send(raw_cb.text("qiye2", "乙"))
    router = rt.dispatcher.router
    monkeypatch.setattr(router, "private_cards", (*router.private_cards, "secret_"))
    seen: list[str] = []
    real_route = router.route
    monkeypatch.setattr(router, "route", lambda ctx, inbound: (seen.append(getattr(inbound, "content", "")
                                                                           or inbound.kind), real_route(ctx, inbound)))
    raw_cb.send(raw_cb.template_card_event("qiye1", "secret_x", "task-1", "vote_interaction", "rc",
                                           selected={"q": ["a"]}))
    assert seen == ["甲", "card"]           # qiye1's text first, then the click; qiye2's waits for the worker
    assert statuses(rt) == [("qiye1", "done"), ("qiye2", "pending"), ("qiye1", "done")]
    with rt.sessions() as s:
        click = s.scalars(select(InboundCallback).where(InboundCallback.kind == "card")).one()
        assert click.payload["SelectedItems"] == "redacted"   # never stored with its selection


def test_a_crash_while_routing_leaves_the_callback_pending_and_it_is_routed_later(raw_cb, rt, wecom, monkeypatch):
    raw_cb.send(raw_cb.text("qiye1", "帮助"))
    router = rt.dispatcher.router
    real_route = router.route

    def dies(ctx, inbound):
        real_route(ctx, inbound)             # the reply is queued in the transaction ...
        raise SystemExit("killed")           # ... and the process dies before it commits
    monkeypatch.setattr(router, "route", dies)
    with pytest.raises(SystemExit):
        rt.dispatcher.worker.drain()
    assert statuses(rt) == [("qiye1", "pending")] and replies(rt) == 0
    monkeypatch.setattr(router, "route", real_route)
    rt.dispatcher.worker.drain()             # the next worker (here: the same, restarted)
    deliver(rt)
    assert statuses(rt) == [("qiye1", "done")] and len(texts(wecom, "qiye1")) == 1


def test_a_handler_error_is_settled_once_with_the_internal_error_reply(raw_cb, rt, wecom, monkeypatch):
    raw_cb.send(raw_cb.text("qiye1", "帮助"))
    monkeypatch.setattr(rt.dispatcher.router, "route", lambda ctx, inbound: 1 / 0)
    rt.dispatcher.worker.drain()
    deliver(rt)
    with rt.sessions() as s:
        row = s.scalars(select(InboundCallback)).one()
    assert row.status == "error" and row.error.startswith("ZeroDivisionError")
    assert len(texts(wecom, "qiye1")) == 1


def test_a_callback_received_before_the_deadline_is_judged_before_it(raw_cb, rt, wecom, clock):
    open_apply(rt)
    deadline = dt.datetime(2018, 11, 15, 15, 59, 59, tzinfo=dt.timezone.utc)  # 23:59:59 +08:00
    clock.set(deadline - dt.timedelta(seconds=30))
    raw_cb.send(raw_cb.text("early", "申报"))
    clock.set(deadline + dt.timedelta(minutes=5))             # the worker gets to it after the deadline
    raw_cb.send(raw_cb.text("late", "申报"))
    rt.dispatcher.worker.drain()
    deliver(rt)
    early, late = texts(wecom, "early"), texts(wecom, "late")
    assert early and late and early[0] != late[0]
    clock.set(deadline - dt.timedelta(seconds=20))            # what the early one was told is what it would
    raw_cb.send(raw_cb.text("control", "申报"))              # have been told routed at once
    rt.dispatcher.worker.drain()
    deliver(rt)
    assert texts(wecom, "control")[0] == early[0]


def test_the_router_thread_routes_what_a_stopped_process_left_pending(raw_cb, rt, wecom):
    for i in range(5):
        raw_cb.send(raw_cb.text(f"qiye{i}", "帮助"))
    rt.dispatcher.worker = None              # a new process: no worker yet
    stop = threading.Event()
    thread = start_router_thread(rt, stop)
    try:
        for _ in range(200):
            if all(status == "done" for _, status in statuses(rt)):
                break
            threading.Event().wait(0.02)
    finally:
        stop.set()
        thread.join(5)
    assert [status for _, status in statuses(rt)] == ["done"] * 5 and not thread.is_alive()


def test_without_a_worker_the_webhook_routes_in_the_request(raw_cb, rt, wecom):
    rt.dispatcher.worker = None
    raw_cb.send(raw_cb.text("qiye1", "帮助"))
    assert statuses(rt) == [("qiye1", "done")] and replies(rt) == 1


def test_two_workers_route_each_callback_once_in_each_members_order(raw_cb, rt, wecom, engine, bot_settings, clock):
    """Two processes' workers at once (PostgreSQL: SKIP LOCKED and the settle's row lock; SQLite: the write lock)."""
    from bot.runtime import build_runtime
    words = ("甲", "乙", "丙", "丁")
    members = [f"m{i}" for i in range(6)]
    for word in words:
        for m in members:
            raw_cb.send(raw_cb.text(m, word))
    other = build_runtime(bot_settings, clock=clock, engine=engine)
    workers = [rt.dispatcher.worker, RoutingWorker(other.sessions, other.dispatcher, batch_size=3)]
    errors: list[BaseException] = []

    def run(worker: RoutingWorker) -> None:
        try:
            worker.drain()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert [status for _, status in statuses(rt)] == ["done"] * len(words) * len(members)
    deliver(rt)
    for m in members:
        answers = texts(wecom, m)
        assert [next(w for w in words if w in t) for t in answers] == list(words)


def test_the_running_worker_lets_the_webhooks_requests_in_progress_go_first(raw_cb, rt):
    worker = RoutingWorker(rt.sessions, rt.dispatcher, yield_seconds=30)
    rt.dispatcher.worker = worker
    raw_cb.send(raw_cb.text("qiye1", "帮助"))
    with worker.serving():                   # a webhook request in progress
        routing = threading.Thread(target=worker.run_once, kwargs={"polite": True})
        routing.start()
        routing.join(0.3)
        assert routing.is_alive() and statuses(rt) == [("qiye1", "pending")]
    routing.join(10)                         # the request is done: the worker goes on at once
    assert not routing.is_alive() and statuses(rt) == [("qiye1", "done")]


def test_requests_that_never_stop_only_slow_the_worker_down(raw_cb, rt):
    worker = RoutingWorker(rt.sessions, rt.dispatcher, yield_seconds=0.05)
    rt.dispatcher.worker = worker
    for i in range(3):
        raw_cb.send(raw_cb.text(f"qiye{i}", "帮助"))
    with worker.serving():                   # always busy: each callback waits at most yield_seconds
        assert worker.run_once(polite=True) == 3
    assert [status for _, status in statuses(rt)] == ["done"] * 3


def test_a_recorded_callback_that_cannot_be_read_back_does_not_stop_the_queue(raw_cb, rt, wecom):
    raw_cb.send(raw_cb.text("qiye1", "帮助"))
    raw_cb.send(raw_cb.text("qiye2", "帮助"))
    with rt.sessions.begin() as s:                 # qiye1's row damaged (say, by a hand edit)
        row = s.scalars(select(InboundCallback).where(InboundCallback.userid == "qiye1")).one()
        row.payload = {"kind": "text", "CreateTime": "not a number"}
    rt.dispatcher.worker.drain()
    deliver(rt)
    with rt.sessions() as s:
        rows = {r.userid: r for r in s.scalars(select(InboundCallback))}
    assert rows["qiye1"].status == "error" and rows["qiye1"].error.startswith("ValueError")
    assert rows["qiye2"].status == "done"
    assert len(texts(wecom, "qiye1")) == 1 and len(texts(wecom, "qiye2")) == 1   # both told something


def test_a_row_the_error_path_cannot_settle_is_settled_as_an_error_and_the_queue_goes_on(raw_cb, rt, wecom,
                                                                                           monkeypatch):
    raw_cb.send(raw_cb.text("qiye1", "帮助"))
    raw_cb.send(raw_cb.text("qiye2", "帮助"))
    dispatcher = rt.dispatcher
    real_context = dispatcher._context

    def broken(s, inbound, now):             # qiye1's standing cannot be read: the routing and its error path fail
        if inbound.userid == "qiye1":
            raise RuntimeError("roster row damaged")
        return real_context(s, inbound, now)
    monkeypatch.setattr(dispatcher, "_context", broken)
    dispatcher.worker.drain()
    deliver(rt)
    with rt.sessions() as s:
        rows = {r.userid: r for r in s.scalars(select(InboundCallback))}
    assert rows["qiye1"].status == "error" and rows["qiye1"].error.startswith("RuntimeError")
    assert rows["qiye2"].status == "done"
    assert len(texts(wecom, "qiye1")) == 1 and len(texts(wecom, "qiye2")) == 1   # qiye1 told all the same


def test_a_row_whose_error_reply_cannot_be_queued_is_still_settled(raw_cb, rt, wecom, monkeypatch):
    from bot.router import Context
    raw_cb.send(raw_cb.text("qiye1", "帮助"))
    raw_cb.send(raw_cb.text("qiye2", "帮助"))
    real_reply = Context.reply

    def reply(self, kind, **data):           # nothing at all can be queued for qiye1
        if self.userid == "qiye1":
            raise RuntimeError("renderer broken")
        return real_reply(self, kind, **data)
    monkeypatch.setattr(Context, "reply", reply)
    rt.dispatcher.worker.drain()
    deliver(rt)
    assert statuses(rt) == [("qiye1", "error"), ("qiye2", "done")]
    assert len(texts(wecom, "qiye2")) == 1
