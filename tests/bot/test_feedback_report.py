"""The applicant's feedback report (issue 25.5): `report feedback NUMBER [--out FILE]` on the sample edition (`sample
--until award`): per GB/T 19580 category the score band, key strengths and opportunities from the consensus, an
overall view — never another applicant's data, never an expert's name or individual score."""
from __future__ import annotations

import datetime as dt
import os
from fractions import Fraction

import pytest
from sqlalchemy import select

from bot import sample
from bot.runtime import build_runtime
from tests.bot.cli_helpers import invoke
from tests.conftest import PG_SCHEMA, Clock, example_settings, reset_database
from workflows.apply.models import Application
from workflows.core.db import make_engine
from workflows.core.models import Person
from workflows.scoring import feedback
from workflows.scoring.models import ItemConsensus, ScoreSheet, Shortlist
from workflows.scoring.scoresheet import points_text
from workflows.tables import Base

NOW = dt.datetime(2019, 3, 10, 2, 0, tzinfo=dt.timezone.utc)   # the award stage of the first edition


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("feedback")
    base_url = os.environ.get("TEST_DATABASE_URL")
    url = (f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{PG_SCHEMA}" if base_url
           else f"sqlite:///{tmp / 'award.sqlite3'}")
    settings = example_settings().with_overrides(database={"url": url}, storage={"dir": str(tmp / "uploads")},
                                                 scheduler={"lock_file": str(tmp / "scheduler.lock")},
                                                 server={"time_travel": True})
    engine = make_engine(url)
    reset_database(engine)
    Base.metadata.create_all(engine)
    runtime = build_runtime(settings, clock=Clock(NOW), engine=engine)
    with runtime.sessions.begin() as s:
        sample.run(s, settings, "award", NOW)
    yield runtime
    engine.dispose()


def _facts(rt):
    with rt.sessions() as s:
        apps = {a.number: a.enterprise_name for a in s.scalars(select(Application))}
        finalist = s.scalar(select(Application.number).join(Shortlist, Shortlist.application_id == Application.id)
                            .where(Shortlist.kind == "vote").order_by(Application.number))
        visited = {n for n, in s.execute(select(Application.number).join(
            Shortlist, Shortlist.application_id == Application.id).where(Shortlist.kind == "site"))}
        material_only = sorted(set(apps) - visited)[0]
        experts = [p.name for p in s.scalars(select(Person).where(Person.role.in_(("expert", "expert_leader"))))]
        totals = {n: [points_text(Fraction(x.total)) for x in s.scalars(select(ScoreSheet).join(
            Application, Application.id == ScoreSheet.application_id).where(Application.number == n))]
            for n in apps}
    return apps, finalist, material_only, experts, totals


def test_the_report_of_a_finalist_reads_like_an_assessors_report(rt, tmp_path):
    apps, finalist, _, experts, totals = _facts(rt)
    result = invoke(rt, "report", "feedback", finalist, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    md = (tmp_path / f"feedback-{finalist}.md").read_text(encoding="utf-8")
    html = (tmp_path / f"feedback-{finalist}.html").read_text(encoding="utf-8")
    assert f"wrote {tmp_path / f'feedback-{finalist}.html'}" in result.output
    for text in (md, html):
        assert apps[finalist] in text and "反馈报告" in text and "进入评审委员会投票评议" in text
        for key, name in (("4.1", "领导"), ("4.4", "资源"), ("4.7", "结果")):
            assert f"{key} {name}" in text
        assert "主要优势" in text and "改进机会" in text and "评分区间" in text
        assert "现场核实" in text and "专家·" not in text   # the site-visit findings (issue 25.3), unsigned
        # Nothing of anyone else, no expert, no individual score.
        assert not [n for n in apps if n != finalist and (n in text or apps[n] in text)]
        assert not [e for e in experts if e in text]
        assert not [t for t in totals[finalist] if t in text]
    assert md.count("\n- ") >= 7 * 2   # each category has strengths and opportunities
    assert '<section class="cat" id="cat-4.7">' in html


def test_the_strengths_come_from_the_consensus_first(rt):
    with rt.sessions() as s:
        row = s.scalar(select(ItemConsensus).where(ItemConsensus.phase == "site").order_by(ItemConsensus.id))
        number = s.get(Application, row.application_id).number
        data = feedback.feedback_data(s, rt.settings, number)
    category = next(c for c in data["categories"] if row.item_key.startswith(c["key"] + "."))
    assert data["phase"] == "site" and row.strengths in category["strengths"] + [""]
    assert all(1 <= c["band"] <= 6 and c["low"] < c["high"] for c in data["categories"])


def test_an_applicant_that_stopped_at_the_material_review_gets_its_report_too(rt):
    apps, _, material_only, _, _ = _facts(rt)
    result = invoke(rt, "report", "feedback", material_only)   # no --out: Markdown on stdout
    assert result.exit_code == 0, result.output
    assert apps[material_only] in result.output and "参加了材料评审" in result.output
    assert "材料评审的合议结果" in result.output and "现场核实" not in result.output


def test_the_site_report_of_the_sample_carries_the_issue_worksheets(rt, tmp_path):
    from bot.commands.experts import write_report
    md, html = write_report(rt, "site", str(tmp_path))
    text = md.read_text(encoding="utf-8")
    with rt.sessions() as s:
        visited = s.scalars(select(Application.number).join(Shortlist, Shortlist.application_id == Application.id)
                            .where(Shortlist.kind == "site")).all()
    assert text.count("**现场核实问题**") == len(visited) and "专家组：" in text and "核实后" in text
    assert "<h4>现场核实问题" in html.read_text(encoding="utf-8")


def test_an_unknown_number_is_a_bad_argument(rt):
    result = invoke(rt, "report", "feedback", "SG2018-099")
    assert result.exit_code == 2 and "SG2018-099" in result.output


def test_the_bands_of_gbz_19579():
    bands = ((0, 5), (10, 25), (30, 45), (50, 65), (70, 85), (90, 100))
    assert feedback.band(Fraction(60), bands) == (4, 50, 65)
    assert feedback.band(Fraction(67), bands) == (4, 50, 65)     # between two bands: the nearer
    assert feedback.band(Fraction(69), bands) == (5, 70, 85)
    assert feedback.band(Fraction(100), bands) == (6, 90, 100)

