"""The approval package (评选情况报告) on a full sample edition (`sample --until award`): the real numbers in every
format, written and audited when the approval is recorded, from the CLI and the workbench; partial and empty
editions say so. The sample's complainant (林晓, 13800138000) appears nowhere in it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot import approval as approval_files
from bot import sample
from bot.app import create_app
from bot.commands import award as award_commands
from bot.commands import publicity as commands
from bot.handlers.publicity import publications_dir
from bot.runtime import build_runtime
from bot.simulator import FakeWeCom, serve_in_thread
from tests.bot.admin_helpers import sign_in
from tests.conftest import PG_SCHEMA, Clock, example_settings, reset_database
from workflows import publicity, scoring, voting
from workflows.scoring import draw as expert_draw, visits
from workflows.apply.models import Application
from workflows.core.db import make_engine
from workflows.core.models import AuditEntry
from workflows.tables import Base

NOW = dt.datetime(2019, 3, 10, 2, 0, tzinfo=dt.timezone.utc)   # the award stage of the first edition
COMPLAINANT = ("林晓", "13800138000")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _build(tmp, until: str) -> SimpleNamespace:
    base_url = os.environ.get("TEST_DATABASE_URL")
    url = (f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{PG_SCHEMA}" if base_url
           else f"sqlite:///{tmp / 'award.sqlite3'}")
    base = example_settings()
    w = base.wecom
    fake = FakeWeCom(corp_id=w.corp_id, corp_secret=w.secret, agent_id=w.agent_id, now=lambda: NOW.timestamp())
    handle = serve_in_thread(fake)
    settings = base.with_overrides(database={"url": url}, storage={"dir": str(tmp / "uploads")},
                                   scheduler={"lock_file": str(tmp / "scheduler.lock")},
                                   server={"time_travel": True},   # the sample edition acts at its own dates
                                   wecom={"api_base_url": handle.url, "oauth_base_url": handle.url,
                                          "login_base_url": handle.url, "request_timeout_seconds": 2})
    engine = make_engine(url)
    reset_database(engine)
    Base.metadata.create_all(engine)
    rt = build_runtime(settings, clock=Clock(NOW), engine=engine)
    if until:
        with rt.sessions.begin() as s:
            sample.run(s, settings, until, NOW)
    app = create_app(rt)
    app.testing = True
    return SimpleNamespace(rt=rt, app=app, wecom=fake, handle=handle, engine=engine)


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """The whole sample edition, approval recorded (with its package) and award announced. Read only."""
    ed = _build(tmp_path_factory.mktemp("approval"), "award")
    yield ed
    ed.handle.stop()
    ed.engine.dispose()


class _Obj:
    def __init__(self, runtime):
        self.runtime = runtime


def cli(rt, *args, code=0):
    main = click.Group("bot")
    commands.register(main)
    award_commands.register(main)   # approval and award: bot/commands/award.py
    result = CliRunner().invoke(main, list(args), obj=_Obj(rt), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def _no_complainant(text: str) -> None:
    assert not [s for s in COMPLAINANT if s in text]


def test_the_numbers_are_the_editions_own(edition):
    rt = edition.rt
    with rt.sessions() as s:
        data = publicity.package_data(s, rt.settings, now=NOW)
        apps = list(s.scalars(select(Application).where(Application.edition == rt.settings.award.edition_key)))
        material = scoring.standing(s, rt.settings, "material").scores
        composite = {e.app_id: e for e in scoring.composite_ranking(s, rt.settings).entries}
        vote = voting.report(s, rt.settings)
        winners = [publicity.describe(s, i)["number"] for i in publicity.current(s, rt.settings).winners]
        number = {a.id: a.number for a in apps}
    assert data["complete"] and data["gaps"] == []
    assert data["applications"] == {"received": len(apps), "recommended": len(apps), "not_recommended": 0,
                                    "accepted": len(apps), "rejected": 0, "undecided": 0}
    assert {e["number"]: e["score"] for e in data["ranking"]["material"]} == {
        number[a]: f"{float(v):.2f}" for a, v in material.items()}
    assert [(e["number"], e["material"], e["site"], e["composite"]) for e in data["ranking"]["composite"]] == [
        (number[a], f"{float(e.material):.2f}", f"{float(e.site):.2f}", f"{float(e.composite):.2f}")
        for a, e in composite.items()]
    [round1] = data["vote"]["rounds"]
    real = vote["rounds"][0]
    assert (round1["members"], round1["voted"], round1["quorum_met"]) == (real["members"], real["voted"], True)
    assert round1["needed"] == 5 and round1["members"] == 7        # 2/3 of 7, rounded up
    assert {c["number"]: c["votes"] for c in round1["candidates"]} == {
        number[c["application_id"]]: c["votes"] for c in real["candidates"]}
    assert [w["number"] for w in data["vote"]["winners"]] == [p["number"] for p in data["proposed"]] == winners
    assert data["publicity"]["counts"] == {"total": 1, "upheld": 0, "not_upheld": 1, "pending": 0, "places_pending": 0}
    assert data["approval"]["document_number"] == "韶府函〔示例〕1号"
    assert [w["number"] for w in data["approval"]["approved"]] == winners
    assert data["experts"]["material"]["sheets"] == data["experts"]["material"]["sheets_expected"] > 0
    with rt.sessions() as s:
        drawn = expert_draw.recorded(s, rt.settings)
        recorded_visits = visits.all_visits(s, rt.settings)
    d = data["experts"]["draw"]
    assert (d["count"], d["reserves"], d["seed"], d["leader"]) == (drawn.count, drawn.reserves, drawn.seed, True)
    assert [(v["number"], v["status"], v["experts"]) for v in data["visits"]] == [
        (app.number, visit.status, len(visit.experts)) for app, visit in recorded_visits]
    assert len(data["visits"]) == data["ranking"]["candidates"] == 6


def test_every_format_says_the_same_numbers_and_names_nobody(edition):
    rt = edition.rt
    with rt.sessions() as s:
        data = publicity.package_data(s, rt.settings, now=NOW)
    md = approval_files.render(rt.renderer, data, "md").decode()
    html = approval_files.render(rt.renderer, data, "html").decode()
    docx = approval_files.docx_text(approval_files.render(rt.renderer, data, "docx"))
    top = data["ranking"]["composite"][0]
    for text in (md, html, docx):
        assert "首届韶关市政府质量奖评选情况报告" in text and "本报告尚未完成" not in text
        assert top["composite"] in text and top["name"] in text and re.search(r"\d+\.\d\d\b", text)
        for e in data["ranking"]["material"]:
            assert e["score"] in text
        assert "实际投票 7 位" in text and "法定人数 5 位" in text and "已达到" in text
        assert "公示期内共收到投诉 1 件" in text and "不成立 1 件" in text and "TS2018-001" in text
        assert "报请市政府审批" in text and "韶府函〔示例〕1号" in text
        assert data["experts"]["draw"]["seed"] in text and "企业已确认" in text
        assert rt.renderer.local_time(data["visits"][0]["starts_at"]) in text
        _no_complainant(text)
    assert "<table" in html and "| 名次 | 申报编号 |" in md
    assert "1 | SG2018-" in docx or "| SG2018-" in docx     # tables survive as Word tables


def test_recording_the_approval_wrote_and_audited_the_package(edition):
    rt = edition.rt
    with rt.sessions() as s:
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "approval.package")).all()
        data = publicity.package_data(s, rt.settings, now=NOW)
    files = entry.details["files"]
    assert sorted(files) == sorted(f"shaoguan-2018-approval.{x}" for x in ("md", "html", "docx"))
    out = publications_dir(rt.settings)
    for name, digest in files.items():
        content = (out / name).read_bytes()
        assert hashlib.sha256(content).hexdigest() == digest
    assert entry.details["complete"] is True and entry.details["digest"] == data["digest"]
    written = (out / "shaoguan-2018-approval.md").read_text(encoding="utf-8")
    assert "六、市政府审批" in written and "韶府函〔示例〕1号" in written
    _no_complainant(written)


def test_cli_writes_each_format(edition, tmp_path):
    rt = edition.rt
    target = tmp_path / "报告.docx"
    result = cli(rt, "approval", "package", "--format", "docx", "--out", str(target))
    assert f"wrote {target}" in result.output and "draft" not in result.output
    text = approval_files.docx_text(target.read_bytes())
    assert "评选情况报告" in text and "695.95" in text
    _no_complainant(text)
    result = cli(rt, "approval", "package", "--format", "html", "--out", str(tmp_path / "r.html"))
    assert "<h1>" in (tmp_path / "r.html").read_text(encoding="utf-8")
    cli(rt, "approval", "package", "--format", "pdf", code=2)


def test_the_workbench_offers_the_package_to_the_secretariat_only(edition):
    http = edition.app.test_client()
    assert sign_in(http, edition.wecom, "mishu").status_code == 302
    page = http.get("/admin/exports").get_data(as_text=True)
    assert 'href="/admin/reports/approval.docx"' in page
    resp = http.get("/admin/reports/approval.docx")
    assert resp.status_code == 200 and resp.mimetype == DOCX
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert "695.95" in approval_files.docx_text(resp.data)
    for name in ("approval.md", "approval.html"):
        body = http.get(f"/admin/reports/{name}").get_data(as_text=True)
        assert "评选情况报告" in body
        _no_complainant(body)
    chair = edition.app.test_client()
    assert sign_in(chair, edition.wecom, "weiyuan1").status_code == 302
    assert chair.get("/admin/reports/approval.docx").status_code == 403


def test_the_package_data_is_json(edition):
    with edition.rt.sessions() as s:
        data = publicity.package_data(s, edition.rt.settings, now=NOW)
    assert json.loads(json.dumps(data)) == data
    assert Path(approval_files.file_name(edition.rt.settings, "docx")).suffix == ".docx"
