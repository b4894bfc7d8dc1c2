"""The operator's command line never works silently on the wrong data: roster, database guard, remind, demo."""
from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from bot.commands import demo
from bot.render import Renderer
from workflows.core.db import make_engine, make_session_factory
from workflows.core.models import AuditEntry, OutboxMessage, Person, ReminderSent
from workflows.core.settings import load_settings

from ..conftest import ROOT, reset_database

HEADER = "userid,name,role,organization,region\n"


@pytest.fixture
def config_file(tmp_path: Path, settings) -> Path:
    """A config file on the test database (empty: the CLI migrates it itself)."""
    engine = make_engine(settings.database.url)
    reset_database(engine)
    engine.dispose()
    body = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    body = body.replace('url = "sqlite:///var/awardbot.sqlite3"', f'url = "{settings.database.url}"')
    body = body.replace('dir = "var/uploads"', f'dir = "{tmp_path / "uploads"}"')
    body = body.replace("time_travel = false", "time_travel = true")  # the tests replay the calendar
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def run(config: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(main, ["--config", str(config), *args], input=input, catch_exceptions=False)


def roster(tmp_path: Path, body: str) -> str:
    path = tmp_path / f"roster-{abs(hash(body))}.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


def active(settings) -> dict[str, bool]:
    engine = make_engine(settings.database.url)
    try:
        with make_session_factory(engine)() as s:
            return {p.userid: p.active for p in s.scalars(select(Person))}
    finally:
        engine.dispose()


def test_replace_lists_asks_and_deactivates_only_when_confirmed(config_file, tmp_path, settings):
    first = roster(tmp_path, "ms,秘书·甲,secretariat,,\nw1,委员·乙,committee,,\nw2,委员·丙,committee,,\n")
    assert run(config_file, "roster", "import", first).exit_code == 0
    second = roster(tmp_path, "ms,秘书·甲,secretariat,,\nw1,委员·乙,committee_chair,,\n")
    no = run(config_file, "roster", "import", second, "--replace", input="n\n")
    assert no.exit_code == 1 and "will be deactivated: w2 委员·丙 (committee)" in no.output
    assert "nothing changed" in no.output and active(settings) == {"ms": True, "w1": True, "w2": True}
    yes = run(config_file, "roster", "import", second, "--replace", input="y\n")
    assert yes.exit_code == 0, yes.output
    assert "deactivated: w2" in yes.output and "role changed: w1 committee -> committee_chair" in yes.output
    assert active(settings) == {"ms": True, "w1": True, "w2": False}
    # --yes asks nothing; without --replace nobody is deactivated
    third = roster(tmp_path, "w1,委员·乙,committee_chair,,\n")
    assert run(config_file, "roster", "import", third).output.strip().endswith("0 deactivated")
    quiet = run(config_file, "roster", "import", third, "--replace", "--yes")
    assert quiet.exit_code == 0 and "deactivated: ms" in quiet.output and "?" not in quiet.output
    listing = run(config_file, "roster", "list", "--all").output
    assert "(deactivated)" in listing and "w1" in listing


def test_remove_one_member_and_refuse_an_unknown_one(config_file, tmp_path, settings):
    run(config_file, "roster", "import", roster(tmp_path, "ms,秘书·甲,secretariat,,\n"))
    gone = run(config_file, "roster", "remove", "ms", "--reason", "调离")
    assert gone.exit_code == 0 and "deactivated: ms 秘书·甲 (secretariat)" in gone.output
    again = CliRunner().invoke(main, ["--config", str(config_file), "roster", "remove", "ms"])
    assert again.exit_code == 2 and "not_on_roster" in again.output and "没有做任何修改" in again.output
    assert active(settings) == {"ms": False}


def test_roster_import_canonical_regions_and_line_numbers(config_file, tmp_path, settings):
    bad = run(config_file, "roster", "import", roster(tmp_path, "r1,甲,recommender,曲江区政府,440205\n"
                                                                "r2,乙,recommender,曲江区政府,曲江\n"))
    assert bad.exit_code == 1 and "line 3: unknown_region 曲江" in bad.output and "nothing imported" in bad.output
    good = run(config_file, "roster", "import", roster(tmp_path, "r1,甲,recommender,曲江区政府,440205\n"))
    assert good.exit_code == 0
    engine = make_engine(settings.database.url)
    with make_session_factory(engine)() as s:
        assert s.get(Person, "r1").region == "曲江区"
    engine.dispose()


def test_a_missing_database_file_is_not_created_and_the_command_says_so(tmp_path):
    body = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    db = tmp_path / "nowhere" / "awardbot.sqlite3"
    path = tmp_path / "config.toml"
    path.write_text(body.replace('url = "sqlite:///var/awardbot.sqlite3"', f'url = "sqlite:///{db}"'),
                    encoding="utf-8")
    for args in (("audit", "verify"), ("report", "material", "--out", str(tmp_path / "r.md")), ("stage", "status")):
        out = CliRunner().invoke(main, ["--config", str(path), *args])
        assert out.exit_code == 2 and "does not exist" in out.output and "Nothing was done" in out.output
        assert not db.exists()


def test_an_empty_database_is_named_instead_of_reporting_nothing(config_file, tmp_path):
    assert run(config_file, "db", "upgrade").exit_code == 0
    for args in (("audit", "verify"), ("report", "material", "--out", str(tmp_path / "r.md")), ("outbox", "status")):
        out = CliRunner().invoke(main, ["--config", str(config_file), *args])
        assert out.exit_code == 2, out.output
        assert "holds no data of edition 'shaoguan-2018'" in out.output and "--config" in out.output
    assert not (tmp_path / "r.md").exists()


def test_a_report_on_an_edition_without_scores_claims_no_ranking(config_file, tmp_path):
    run(config_file, "roster", "import", roster(tmp_path, "ms,秘书·甲,secretariat,,\n"))
    out = run(config_file, "report", "material", "--out", str(tmp_path / "material.md"))
    assert out.exit_code == 0, out.output
    body = (tmp_path / "material.md").read_text(encoding="utf-8")
    assert "排名已确定" not in body and "尚无评分" in body


def test_remind_at_a_future_time_only_previews(config_file, tmp_path, settings):
    assert run(config_file, "sample", "--until", "review").exit_code == 0
    engine = make_engine(settings.database.url)
    sessions = make_session_factory(engine)

    def counts():
        with sessions() as s:
            return (s.scalar(select(func.count()).select_from(ReminderSent)),
                    s.scalar(select(func.count()).select_from(OutboxMessage)))
    before = counts()
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)).strftime("%Y-%m-%d 09:00")
    out = run(config_file, "remind", "--now", later)
    assert out.exit_code == 0 and "preview only" in out.output and "--dry-run implied" in out.output
    assert " sent at" not in out.output and counts() == before
    engine.dispose()


def test_sample_on_a_roster_without_a_needed_role_refuses(config_file, tmp_path, settings):
    run(config_file, "roster", "import", roster(tmp_path, "ms,秘书·甲,secretariat,,\n"))
    out = CliRunner().invoke(main, ["--config", str(config_file), "sample", "--until", "review"])
    assert out.exit_code == 1 and "recommender (needs 1, has 0)" in out.output and "nothing was changed" in out.output
    assert "advanced through" not in out.output
    assert active(settings) == {"ms": True}


# --- the demo --------------------------------------------------------------------------------------

def test_the_demo_writes_its_own_config_and_says_when_it_reuses(tmp_path):
    base_path = ROOT / "config.example.toml"
    base = load_settings(base_path)
    root = tmp_path / "demo"
    today = dt.date(2026, 9, 1)
    p = demo.prepare(base_path, base, until="apply", days_left=20, fresh=False, api_url="http://127.0.0.1:9",
                     today=today, root=root)
    assert not p.reused and p.replaced == ""
    raw = tomllib.loads(p.config.read_text(encoding="utf-8"))
    assert raw["database"]["url"] == f"sqlite:///{root / 'demo.sqlite3'}" and raw["wecom"]["api_base_url"] == "http://127.0.0.1:9"
    shifted = load_settings(p.config)
    assert shifted.award.stage("apply").deadline.astimezone(shifted.award.tz).date() == today + dt.timedelta(days=20)
    assert f"--config {p.config}" in p.config.read_text(encoding="utf-8")
    (root / "demo.sqlite3").write_bytes(b"")                  # the demo ran and made its database
    again = demo.prepare(base_path, base, until="apply", days_left=20, fresh=False, api_url="http://x:1",
                         today=today + dt.timedelta(days=3), root=root)
    assert again.reused and again.state["created"] == "2026-09-01" and (root / "demo.sqlite3").exists()
    other = demo.prepare(base_path, base, until="review", days_left=20, fresh=False, api_url="http://x:1",
                         today=today, root=root)
    assert not other.reused and other.replaced == "apply" and not (root / "demo.sqlite3").exists()
    (root / "demo.sqlite3").write_bytes(b"")
    fresh = demo.prepare(base_path, base, until="review", days_left=20, fresh=True, api_url="http://x:1",
                         today=today, root=root)
    assert not fresh.reused and not (root / "demo.sqlite3").exists()


@pytest.mark.parametrize("until", ["apply", "review"])
def test_the_banner_lists_the_members_the_sample_uses(rt, until):
    from bot import sample
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, until, rt.clock())
    with rt.sessions() as s:
        who = demo.members(s, rt.settings)
    text = rt.renderer.text("reports/demo_banner.txt.j2", until=until, ran=[until], webhook="http://w", api_url="http://a",
                            server=rt.settings.server, config="var/demo/config.toml", reused=True, replaced="",
                            created="2026-09-01", fresh=False, stage=rt.settings.award.stage(until), **who)
    assert "REUSING" in text and "--fresh" in text and "--config var/demo/config.toml chat --as mishu" in text
    assert "丹霞机械" not in text                            # no enterprise is claimed for a new applicant
    if until == "review":
        assert "chat --as qiye-danxia" in text and "韶关丹霞食品科技有限公司" in text
        assert "申报 is refused" in text
    else:
        assert "qiye-danxia" not in text and "type 申报 to start" in text
    assert "\n\n    " not in text.split("chat --as weiyuan7")[1]  # one line per member, no blank line between them
    names = demo.directory_names(who)
    assert names["mishu"] == "秘书处·李敏" and names["qiye1"] == "林志明"


def test_examples_follow_a_shifted_calendar(settings):
    shifted = settings.with_calendar_shift(365 * 8 + 2)
    r = Renderer(shifted)
    year = shifted.award.stage("apply").deadline.year
    help_line = r.text("messages/errors/bad_extend_command.md.j2")
    assert f"延期 SG2018-001 {year}-" in help_line and "2018-11-20" not in help_line
    usage = r.text("messages/publicity/usage.md.j2")
    assert f"审批 {shifted.award.stage('approval').deadline.year}-" in usage and "2019-03-20" not in usage


def test_no_audit_entry_is_written_by_a_refused_command(config_file):
    run(config_file, "db", "upgrade")
    CliRunner().invoke(main, ["--config", str(config_file), "audit", "verify"])
    engine = make_engine(load_settings(config_file).database.url)
    with make_session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
    engine.dispose()
