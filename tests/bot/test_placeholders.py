"""Issue 21 item 5: the example configuration's placeholders never reach the public or the workbench.

A copy of config.example.toml, as a new operator would try it: `serve`, `sender` and `scheduler` stop with one list
of what to replace; `publicity start`, `call publish` and the call's texts (CLI and chat) refuse the example
contacts, listing each;
a cookie signed with the example key opens nothing; the demo brings its own values."""
from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

import bot.serve
from bot.app import create_app
from bot.cli import main
from bot.commands import demo
from tests.bot.conftest import deliver, texts
from tests.conftest import ROOT, example_config_text, reset_database
from tests.workflows.publicity_fixtures import START, committee_result, make_apps, make_roster
from workflows.call.models import CallPublication
from workflows.core import placeholders
from workflows.core.models import AuditEntry, Confirmation
from workflows.core.db import make_engine, make_session_factory
from workflows.core.settings import ConfigError, load_settings
from workflows.publicity.models import Publicity

EXAMPLE = load_settings(ROOT / "config.example.toml")
PUBLIC = ("award.secretariat.phone", "award.secretariat.address", "award.call.contacts[0].phone")
SERVER = ("server.secret_key", "wecom.corp_id", "wecom.secret", "wecom.token", "wecom.encoding_aes_key")


def copy_of_example(tmp_path: Path, settings, body: str | None = None) -> Path:
    """config.example.toml as a new operator copies it, pointed at the test's database and storage."""
    body = body or (ROOT / "config.example.toml").read_text(encoding="utf-8")
    body = body.replace('url = "sqlite:///var/awardbot.sqlite3"', f'url = "{settings.database.url}"')
    body = body.replace('dir = "var/uploads"', f'dir = "{tmp_path / "uploads"}"')
    body = body.replace('lock_file = "var/scheduler.lock"', f'lock_file = "{tmp_path / "scheduler.lock"}"')
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def cli(config: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)


@pytest.fixture
def started(monkeypatch) -> list[str]:
    """What would have started (the processes themselves are replaced: they would run forever)."""
    ran: list[str] = []
    monkeypatch.setattr(bot.serve, "serve", lambda rt, **kw: ran.append("serve"))
    monkeypatch.setattr(bot.serve, "run_sender_forever", lambda rt: ran.append("sender"))
    monkeypatch.setattr("bot.scheduler.run_foreground", lambda rt, stop, **kw: ran.append("scheduler"))
    return ran


def test_the_processes_refuse_the_example_configuration_with_one_list(tmp_path, settings, started):
    engine = make_engine(settings.database.url)
    reset_database(engine)  # empty: the processes migrate it themselves
    engine.dispose()
    config = copy_of_example(tmp_path, settings)
    for command in ("serve", "sender", "scheduler"):
        result = cli(config, command)
        assert result.exit_code == 2, result.output
        err = result.stderr
        assert f"`{command}` does not start" in err and "Nothing was started." in err
        assert [line.split(":")[0].strip() for line in err.splitlines() if line.startswith("  ")] == [*SERVER, *PUBLIC]
        assert "0751-0000000" in err and "change-me-to-a-long-random-string" not in err   # secrets named, not shown
    assert started == []
    # A key of the right kind but too short is named too; with every value replaced, each process starts.
    short = example_config_text().replace(
        'secret_key = "test-secret-key-0123456789abcdefghijklmnop"', 'secret_key = "only-twenty-chars-xx"')
    for old, new in (("wwdemocorp000000001", "ww0123456789abcdef"), ("demo-secret-replace-me", "S" * 43),
                     ("DemoToken2018Shaoguan", "Tok3nFromTheConsole"),
                     (EXAMPLE.wecom.encoding_aes_key, "A" * 43)):
        short = short.replace(f'"{old}"', f'"{new}"')
    config = copy_of_example(tmp_path, settings, short)
    result = cli(config, "serve")
    assert result.exit_code == 2 and "server.secret_key: shorter than 32 characters" in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("  ")] == [result.stderr.splitlines()[1]]
    config = copy_of_example(tmp_path, settings, short.replace('"only-twenty-chars-xx"', '"' + "k" * 40 + '"'))
    for command in ("serve", "sender", "scheduler"):
        assert cli(config, command).exit_code == 0
    assert started == ["serve", "sender", "scheduler"]


def test_a_cookie_forged_with_the_example_key_opens_no_workbench(rt, settings, clock):
    with rt.sessions.begin() as s:
        make_roster(s)
    t = int(clock().timestamp())

    def forged(key: str) -> str:
        return URLSafeSerializer(key, salt="awardbot.admin.session").dumps({"u": "mishu1", "c": "x", "s": t, "a": t})
    # The app does not run with the example key at all (nor with a short one) …
    for key in (EXAMPLE.server.secret_key, "sixteen-chars-ok"):
        rt.settings = settings.with_overrides(server={"secret_key": key})
        with pytest.raises(ConfigError, match="server.secret_key"):
            create_app(rt)
    # … and a deployment's own key does not take a cookie signed with the example's.
    rt.settings = settings
    http = create_app(rt).test_client()
    http.set_cookie("awardbot_admin", forged(EXAMPLE.server.secret_key), path="/admin")
    r = http.get("/admin/publicity")
    assert r.status_code in (302, 303) and "/admin/login" in r.headers["Location"]
    http.set_cookie("awardbot_admin", forged(settings.server.secret_key), path="/admin")
    assert http.get("/admin/publicity").status_code == 200      # the forgery itself was right


@pytest.fixture
def with_example_contacts(settings):
    """The deployment kept the example's contacts (its key is its own)."""
    return settings.with_overrides(award=EXAMPLE.award.model_dump())


@pytest.fixture
def edition(rt, clock):
    clock.set(START)
    with rt.sessions.begin() as s:
        ids = make_apps(s, rt.settings)
        make_roster(s)
        committee_result(s, rt.settings, ids[:3], ids[3:])
    return ids


def changes(rt) -> tuple[int, ...]:
    with rt.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in
                     (Publicity, CallPublication, AuditEntry, Confirmation))


def test_publicity_start_and_call_publish_refuse_example_contacts_in_chat(rt, cb, wecom, edition, settings,
                                                                          with_example_contacts):
    rt.settings = rt.dispatcher.settings = with_example_contacts
    before = changes(rt)
    for word in ("公示 开始", "征集 发布 韶关日报 2019-01-20", "征集"):
        assert cb.send(cb.text("mishu1", word)).status == 200
        deliver(rt)
        reply = texts(wecom, "mishu1")[-1]
        assert "仍是示例值" in reply and "本次没有做任何更改" in reply, reply
        assert "0751-0000000" in reply and "（示例地址，请替换）" in reply and "0751-8888001" in reply
        assert all(f"`{key}`" in reply for key in PUBLIC)
    assert not [m for m in wecom.messages_to("mishu1") if m.get("msgtype") == "template_card"]  # no card to confirm
    assert changes(rt) == before
    # With the deployment's own contacts the same words go ahead (the notice asks to confirm first).
    rt.settings = rt.dispatcher.settings = settings
    assert cb.send(cb.text("mishu1", "公示 开始")).status == 200
    deliver(rt)
    assert wecom.messages_to("mishu1")[-1]["msgtype"] == "template_card"


def test_publicity_start_and_call_publish_refuse_example_contacts_on_the_command_line(tmp_path, settings):
    engine = make_engine(settings.database.url)
    reset_database(engine)
    config = copy_of_example(tmp_path, settings)
    assert cli(config, "db", "upgrade").exit_code == 0
    with make_session_factory(engine).begin() as s:
        ids = make_apps(s, settings)
        make_roster(s)
        committee_result(s, settings, ids[:3], ids[3:])
    for args in (("publicity", "start", "--actor", "mishu1"), ("call", "publish", "portal", "--on", "2018-09-20"),
                 ("call", "texts", "--out", str(tmp_path / "texts"))):
        result = cli(config, *args)
        assert result.exit_code == 1 and result.stderr.startswith("placeholder_contacts:"), result.output
        assert all(f"`{key}`" in result.stderr for key in PUBLIC) and "0751-0000000" in result.stderr
    assert not (tmp_path / "texts").exists()                 # no call text was written with them
    with make_session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(Publicity)) == 0
        assert s.scalar(select(func.count()).select_from(CallPublication)) == 0
    assert cli(copy_of_example(tmp_path, settings, example_config_text()), "call", "publish", "portal", "--on",
               "2018-09-20").exit_code == 0
    engine.dispose()


def test_an_address_edited_around_the_example_mark_is_still_a_placeholder(settings):
    award = settings.award.model_dump()
    award["secretariat"]["address"] = "韶关市武江区某路1号（示例地址，请替换）"
    found = placeholders.found(settings.with_overrides(award=award), "public")
    assert [(f.key, f.reason) for f in found] == [("award.secretariat.address", "marker")]
    assert placeholders.found(settings, "public") == [] and placeholders.found(settings, "server")[0].key != \
        "server.secret_key"


def test_the_demo_brings_its_own_key_and_contacts_and_keeps_them(tmp_path):
    base_path = ROOT / "config.example.toml"
    root = tmp_path / "demo"
    first = demo.prepare(base_path, EXAMPLE, until="publicity", days_left=5, fresh=False, api_url="http://127.0.0.1:9",
                         today=dt.date(2026, 9, 1), root=root)
    shown = load_settings(first.config)
    assert placeholders.found(shown, "public") == []
    assert [f.key for f in placeholders.found(shown, "server")] == list(SERVER[1:])   # the stand-in takes the WeCom ones
    assert shown.server.secret_key != EXAMPLE.server.secret_key and len(shown.server.secret_key) >= 32
    assert "演示" in shown.award.secretariat.address and shown.award.call.contacts[0].name == "李敏"
    (root / "demo.sqlite3").write_bytes(b"")
    again = demo.prepare(base_path, EXAMPLE, until="publicity", days_left=5, fresh=False, api_url="http://x:1",
                         today=dt.date(2026, 9, 2), root=root)
    assert again.reused and load_settings(again.config).server.secret_key == shown.server.secret_key
    assert tomllib.loads(again.config.read_text(encoding="utf-8"))["server"]["secret_key"] == shown.server.secret_key
