"""Issue 12 item 5: the corp secret and the access tokens never reach the database (except the shared
token row), the logs, the CLI or an error text — whatever fails: network errors, HTTP errors, errcodes."""
from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import event as sa_event, inspect, select, text
from sqlalchemy.engine import make_url

from bot.cli import Obj, outbox_status
from bot.runtime import build_runtime
from bot.wecom.client import WeComError, scrub, token_key
from workflows.core import notices
from workflows.core.models import OutboxMessage, WecomToken

from .conftest import deliver

SECRET = "CorpS3cretValue-0123456789-abcdefXYZ"


@pytest.fixture
def settings(settings):
    """A distinctive secret (the stand-in is built with it) and one attempt, so every failure is dead."""
    return settings.with_overrides(wecom={"secret": SECRET}, sender={"max_attempts": 1})


def closed_port() -> int:
    """A loopback port nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def queue_all(rt, tag: str) -> None:
    """One row of every kind of call: a text, a chat download and a directory look-up."""
    with rt.sessions.begin() as s:
        notices.notify(s, "qiye1", "common.card_unknown", now=rt.clock())
        notices.fetch_media(s, "qiye1", media_id=f"media-{tag}", purpose="probe", now=rt.clock())
        s.add(OutboxMessage(recipient=f"user-{tag}", kind="fetch.user", data={}, action="fetch_user",
                            next_attempt_at=rt.clock(), created_at=rt.clock()))


def runtime_at(rt, engine, clock, url: str):
    """Another process of the same deployment whose WeCom address is `url`."""
    other = build_runtime(rt.settings.with_overrides(wecom={"api_base_url": url}), clock=clock, engine=engine)
    other.sender.media_handlers["probe"] = lambda *a: None
    return other


def stored_text(engine, db_url: str) -> tuple[bytes, str]:
    """Everything the database holds: the raw SQLite files, or every PostgreSQL row as text
    (the token table apart, which may hold the shared token but never the secret)."""
    if engine.dialect.name == "sqlite":
        path = Path(make_url(db_url).database)
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        return raw, ""
    rows = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for (line,) in conn.execute(text(f'SELECT CAST(t AS text) FROM "{table}" t')):
                rows.append(f"{table}: {line}")
    return b"", "\n".join(rows)


def test_no_secret_or_token_in_database_logs_cli_or_errors(rt, wecom, engine, clock, db_url, caplog):
    caplog.set_level(logging.DEBUG)  # urllib3's request lines ("GET /cgi-bin/gettoken?corpsecret=…") too
    rt.sender.media_handlers["probe"] = lambda *a: None
    down = runtime_at(rt, engine, clock, f"http://127.0.0.1:{closed_port()}")

    # 1. gettoken: connection refused, an errcode, an HTTP 500, a timeout
    queue_all(rt, "a")
    assert deliver(down) == 3
    for fault in ({"errcode": 40001}, {"http_status": 500}, {"delay": 3}):
        queue_all(rt, str(fault))
        wecom.fail_next("gettoken", **fault)
        deliver(rt)
        wecom.set_delay("gettoken", None)

    # 2. a token is fetched and shared; then every call fails while it is valid
    queue_all(rt, "ok")
    wecom.store_media("file", "a.pdf", "application/pdf", b"%PDF-1.4\n")
    deliver(rt)
    with rt.sessions() as s:
        row = s.scalar(select(WecomToken))
    assert row.key == token_key(rt.settings.wecom.corp_id, SECRET) and SECRET[:10] not in row.key
    tokens = set(wecom._tokens)
    assert row.token in tokens
    queue_all(rt, "b")
    assert deliver(runtime_at(rt, engine, clock, f"http://127.0.0.1:{closed_port()}")) == 3
    for path in ("message/send", "media/get", "user/get"):
        for fault in ({"errcode": 40003}, {"http_status": 502}):
            queue_all(rt, f"{path}{fault}")
            wecom.fail_next(path, **fault)
            deliver(rt)
    queue_all(rt, "slow")
    wecom.fail_next("message/send", delay=3)  # longer than the 2 s client timeout
    deliver(rt)
    tokens |= set(wecom._tokens)

    with rt.sessions() as s:
        errors = [r.last_error for r in s.scalars(select(OutboxMessage)) if r.last_error]
    assert len(errors) >= 10 and any("ConnectionError" in e for e in errors), errors
    assert any("gettoken" in e for e in errors) and any("message/send" in e for e in errors)

    cli = CliRunner().invoke(outbox_status, obj=_obj(rt), catch_exceptions=False)
    assert "dead #" in cli.output
    logs = "\n".join(logging.Formatter("%(name)s %(message)s").format(r) for r in caplog.records)
    assert "/cgi-bin/gettoken?" in logs  # urllib3 logged its request lines, scrubbed
    raw, rows = stored_text(engine, db_url)

    secrets = {SECRET, SECRET[:10], *tokens}
    for where, haystack in (("errors", "\n".join(errors)), ("cli", cli.output), ("logs", logs)):
        for value in secrets:
            assert value not in haystack, (where, value[:6])
        assert "corpsecret=" not in haystack.replace("corpsecret=***", "")
        assert "access_token=" not in haystack.replace("access_token=***", "")
    for value in secrets:
        assert value.encode() not in raw.replace(row.token.encode(), b"")
        assert value not in "\n".join(line for line in rows.splitlines() if not line.startswith("wecom_token:"))
    assert SECRET not in rows and SECRET.encode() not in raw


def _obj(rt) -> Obj:
    obj = Obj("unused.toml")
    obj._settings, obj._runtime = rt.settings, rt
    return obj


def test_scrub_removes_credentials_from_any_text():
    text_ = ("HTTPConnectionPool(host='x', port=1): Max retries exceeded with url: "
             "/cgi-bin/gettoken?corpid=ww1&corpsecret=abc123def (Caused by NewConnectionError(...))")
    assert "abc123def" not in scrub(text_) and "/cgi-bin/gettoken?***" in scrub(text_)
    assert scrub("https://h/cgi-bin/message/send?access_token=TOKEN123456") == "https://h/cgi-bin/message/send?***"
    assert scrub("{'access_token': 'TOKEN123456', 'x': 1}") == "{'access_token': '***', 'x': 1}"
    assert scrub("errcode=40014 invalid access_token") == "errcode=40014 invalid access_token"
    assert "TOKEN123456" not in str(WeComError(None, "GET /x?access_token=TOKEN123456 failed"))


def test_a_client_error_carries_no_request_in_its_traceback(rt, engine, clock):
    import traceback
    down = runtime_at(rt, engine, clock, f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(WeComError) as info:
        down.client.send_message({"touser": "qiye1", "msgtype": "text", "text": {"content": "x"}})
    assert info.value.__cause__ is None and info.value.__suppress_context__
    shown = "".join(traceback.format_exception(info.value))
    assert SECRET not in shown and "corpsecret=" not in shown.replace("corpsecret=***", "")


def test_upgrading_drops_a_token_row_keyed_by_the_secrets_prefix(settings):
    from bot.migrate import upgrade
    from workflows.core.db import make_engine

    from ..conftest import reset_database
    engine = make_engine(settings.database.url)
    reset_database(engine)
    upgrade(engine, "a121edb876cf")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO wecom_token (key, token, expires_at, generation) VALUES "
                          "(:k, 'tok', '2018-10-20 02:00:00', 1), (:h, 'tok2', '2018-10-20 02:00:00', 1)"),
                     {"k": f"ww1:{SECRET[:10]}", "h": token_key("ww1", SECRET)})
        conn.execute(text("INSERT INTO outbox_message (id, recipient, kind, data, action, status, attempts, "
                          "last_error, next_attempt_at, created_at) VALUES (1, 'u', 'k', '{}', 'send', 'dead', 8, "
                          ":e, '2018-10-20 02:00:00', '2018-10-20 02:00:00')"),
                     {"e": "errcode=None http=None gettoken failed: Max retries exceeded with url: "
                           f"/cgi-bin/gettoken?corpid=ww1&corpsecret={SECRET} (Caused by NewConnectionError())"})
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT key FROM wecom_token")).scalars().all() == [token_key("ww1", SECRET)]
        error = conn.execute(text("SELECT last_error FROM outbox_message")).scalar_one()
    assert SECRET not in error and "url: /cgi-bin/gettoken?*** (Caused by" in error
    engine.dispose()


def test_two_processes_storing_the_first_token_at_once_both_go_on(rt, wecom, engine, bot_settings, clock):
    """Two senders start together: both find no token row, fetch, and insert; the second insert meets the first's
    row (it used to make the message it was sending dead). Only PostgreSQL lets both read "no row": SQLite's
    write lock is taken before the read."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads the token row under the write lock")
    other = build_runtime(bot_settings, clock=clock, engine=engine)

    def first_process_stores_meanwhile(session, _ctx, _instances) -> None:
        mine = next((o for o in session.new if isinstance(o, WecomToken)), None)
        if mine is not None:                     # another process's connection inserts and commits first
            with engine.begin() as conn:
                conn.execute(WecomToken.__table__.insert().values(
                    key=mine.key, token="other-process-token", expires_at=mine.expires_at, generation=1))
    sa_event.listen(other.sessions, "before_flush", first_process_stores_meanwhile)
    assert other.client.tokens.get()
    with rt.sessions.begin() as s:
        notices.notify(s, "qiye1", "common.card_unknown", now=clock())
    assert deliver(other) == 1
    with rt.sessions() as s:
        assert s.scalars(select(OutboxMessage.status)).all() == ["sent"]


def test_database_errors_never_show_their_statements_parameters(rt):
    """A token, a ballot's choice or a complainant's name in a failing statement stays out of logs and error texts."""
    with pytest.raises(Exception) as caught:
        with rt.sessions.begin() as s:
            s.execute(text("SELECT CAST(:secret AS INTEGER) / 0 FROM no_such_table"), {"secret": "tok-ABCDEF123456"})
    assert "tok-ABCDEF123456" not in str(caught.value)
