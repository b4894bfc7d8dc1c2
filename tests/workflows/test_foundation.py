"""Settings validation, stages and deadlines, the roster, the audit chain, conversations."""
from __future__ import annotations

import datetime as dt
import tomllib

import pytest
from sqlalchemy import func, select

from workflows.core import audit, conversation, people, stages
from workflows.core.errors import InvalidInput, StageClosed, StageNotOpen
from workflows.core.models import AuditEntry, Person
from workflows.core.settings import ConfigError, load_settings, parse_settings

from ..conftest import ROOT


def raw_config() -> dict:
    return tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))


def test_example_config_is_the_first_shaoguan_edition(settings):
    a = settings.award
    r = a.rules
    assert (r.candidates_max, r.material_gate, r.weight_material_percent, r.weight_site_percent) == (6, 450, 40, 60)
    assert (r.vote_top, r.winners, r.publicity_days, r.prize_yuan) == (5, 3, 10, 500000)
    assert a.stage("apply").deadline == dt.datetime(2018, 11, 15, 23, 59, 59, tzinfo=a.tz)
    assert sum(c.max for c in a.rubric.categories) == 1000
    assert sum(len(c.items) for c in a.rubric.categories) == 23
    assert len(a.regions) == 10


@pytest.mark.parametrize("mutate,key", [
    (lambda c: c["wecom"].pop("corp_id"), "wecom.corp_id"),
    (lambda c: c["wecom"].__setitem__("encoding_aes_key", "short"), "wecom.encoding_aes_key"),
    (lambda c: c["award"]["rules"].__setitem__("weight_site_percent", 70), "award.rules"),
    (lambda c: c["award"]["rules"].__setitem__("winners", "three"), "award.rules.winners"),
    (lambda c: c["award"]["rubric"]["categories"][0].__setitem__("max", 120), "award.rubric.categories.0"),
    (lambda c: c["award"].__setitem__("timezone", "Mars/Olympus"), "award.timezone"),
    (lambda c: c["award"]["stages"].pop(4), "award"),
    (lambda c: c["server"].__setitem__("prot", 1), "server.prot"),
    (lambda c: c["award"]["materials"][2].__setitem__("max_mb", 0), "award.materials.2.max_mb"),
    (lambda c: c["award"]["materials"][1].__setitem__("key", "application_form"), "award"),
    (lambda c: c["award"]["eligibility"][0].__setitem__("kind", "must"), "award.eligibility.0.kind"),
])
def test_a_wrong_config_names_the_key(mutate, key):
    cfg = raw_config()
    mutate(cfg)
    with pytest.raises(ConfigError) as err:
        parse_settings(cfg, source="x.toml")
    assert key in str(err.value)


def test_missing_or_broken_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[wecom\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


def test_calendar_shift_moves_every_deadline(settings):
    shifted = settings.with_calendar_shift(3000)
    for a, b in zip(settings.award.stages, shifted.award.stages):
        assert b.deadline - a.deadline == dt.timedelta(days=3000)


def test_stage_gate_and_extensions(sessions, settings, clock):
    with sessions.begin() as s:
        with pytest.raises(StageNotOpen):
            stages.require_open(s, settings, "apply", now=clock())
        stages.open_stage(s, settings, "apply", actor="system", now=clock())
        assert stages.require_open(s, settings, "apply", now=clock()) == settings.award.stage("apply").deadline
        late = settings.award.stage("apply").deadline + dt.timedelta(hours=1)
        with pytest.raises(StageClosed):
            stages.require_open(s, settings, "apply", now=late)
        new = settings.award.stage("apply").deadline + dt.timedelta(days=2)
        stages.extend(s, settings, "apply", new, actor="system", now=clock(), subject="application:1", reason="停电")
        assert stages.require_open(s, settings, "apply", now=late, subject="application:1") == new
        with pytest.raises(StageClosed):
            stages.require_open(s, settings, "apply", now=late, subject="application:2")
        with pytest.raises(InvalidInput):
            stages.extend(s, settings, "apply", new - dt.timedelta(days=5), actor="system", now=clock())
        actions = [e.action for e in audit.entries(s)]
    assert actions == ["stage.open", "deadline.extend"]


def test_roster_import_is_all_or_nothing_and_reports_lines(sessions, clock):
    bad = "userid,name,role,organization,region\nu1,甲,expert,A,广州\nu2,,expert,B,深圳\nu3,丙,wizard,C,韶关\n"
    with sessions.begin() as s:
        result = people.import_roster(s, bad, actor="cli", now=clock())
    assert [(p.line, p.code) for p in result.problems] == [(3, "missing_name"), (4, "bad_role")]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 0
    good = "userid,name,role,organization,region\nu1,甲,expert,A,广州\n"
    with sessions.begin() as s:
        assert people.import_roster(s, good, actor="cli", now=clock()).created == 1
    with sessions.begin() as s:
        again = people.import_roster(s, good.replace("广州", "佛山"), actor="cli", now=clock())
        assert (again.created, again.updated) == (0, 1)
        assert people.get(s, "u1").region == "佛山"


def test_roster_header_must_match(sessions, clock):
    with sessions.begin() as s:
        result = people.import_roster(s, "id,name\n1,2\n", actor="cli", now=clock())
    assert result.problems[0].code == "bad_header"


def test_audit_chain_detects_an_edit(sessions, clock):
    with sessions.begin() as s:
        for i in range(3):
            audit.record(s, actor="mishu", action="test", subject=f"x:{i}", now=clock(), n=i)
    with sessions.begin() as s:
        assert audit.verify(s).ok
        s.get(AuditEntry, 2).details = {"n": 99}
    with sessions() as s:
        report = audit.verify(s)
    assert not report.ok and report.first_bad_id == 2


def test_conversation_survives_sessions(sessions, clock):
    with sessions.begin() as s:
        conversation.start(s, "u1", "apply", "ask_name", now=clock(), a=1)
    with sessions.begin() as s:
        conv = conversation.current(s, "u1")
        conversation.advance(conv, "ask_code", now=clock(), b=2)
    with sessions.begin() as s:
        conv = conversation.current(s, "u1")
        assert (conv.step, conv.data) == ("ask_code", {"a": 1, "b": 2})
        assert conversation.end(s, "u1") and not conversation.end(s, "u1")
