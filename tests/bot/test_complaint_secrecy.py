"""秘书处将严格保密: every place a complaint leaves the secretariat, through the real webhook, names nobody.

Outgoing: the committee's report messages (and their stored outbox rows), the written report files, the
workbench's report downloads, the approval package (all formats, also the one written when the approval is
recorded), the public complaint page, and the archive's reports. The secretariat still sees who complained:
the notice of a new complaint, 投诉列表 and its workbench page.
"""
from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest
from sqlalchemy import select

from bot import approval as approval_files
from bot.handlers.publicity import publications_dir
from tests.bot.admin_helpers import sign_in
from tests.bot.application_helpers import confirm_last
from tests.bot.complaint_helpers import PDF, start_notice
from tests.bot.conftest import deliver, texts
from tests.workflows.publicity_fixtures import START
from workflows import archive
from workflows.core.models import OutboxMessage

NAME = "王小明"
SECRETS = (NAME, "13912345678", "1234 5678", "举报信")
CONTENT = "本人王小明，电话 139 1234 5678。该企业近三年发生过一次重大质量事故，申报材料中未如实说明。"
COMMITTEE = ("weiyuan1", "weiyuan2", "zhuren")


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def say(cb, rt, uid, text):
    assert cb.send(cb.text(uid, text)).status == 200
    deliver(rt)


@pytest.fixture
def verified(cb, rt, wecom, clock):
    """A notice, a named complaint with an evidence file named after its sender, concluded, the report sent."""
    start_notice(rt, clock)
    say(cb, rt, "gongzhong1", "投诉")
    say(cb, rt, "gongzhong1", "2")
    say(cb, rt, "gongzhong1", CONTENT)
    media = wecom.store_media("file", "王小明举报信.pdf", "application/pdf", PDF)
    assert cb.send(cb.file("gongzhong1", media.media_id, "王小明举报信.pdf")).status == 200
    deliver(rt)
    for text in ("完成", NAME, "139 1234 5678"):
        say(cb, rt, "gongzhong1", text)
    say(cb, rt, "mishu1", f"核查 TS2018-001 不成立 已与投诉人{NAME}电话核实，事故系供应商责任且已整改｜不构成重大质量事故")
    confirm_last(cb, rt, wecom, "mishu1")
    clock.set(START + dt.timedelta(days=10))
    say(cb, rt, "mishu1", "核查报告")
    assert "核查报告已发送" in texts(wecom, "mishu1")[-1]
    return rt


def test_the_secretariat_still_sees_who_complained(cb, rt, wecom, verified):
    received = next(t for t in texts(wecom, "mishu1") if "收到新的公示投诉" in t)
    assert NAME in received and "13912345678" in received
    say(cb, rt, "mishu1", "投诉列表")
    assert "TS2018-001" in texts(wecom, "mishu1")[-1]


def test_the_committee_gets_the_report_without_the_complainant(rt, wecom, verified):
    for uid in COMMITTEE:
        report = "\n".join(texts(wecom, uid))
        assert "TS2018-001" in report and "投诉不成立" in report and "实名" in report
        assert leaked(report) == []
    with rt.sessions() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient.in_(COMMITTEE))).all()
    assert rows and all(leaked(json.dumps(r.data, ensure_ascii=False)) == [] for r in rows)
    out = publications_dir(rt.settings)
    for ext in ("md", "html"):
        body = (out / f"shaoguan-2018-verification.{ext}").read_text(encoding="utf-8")
        assert "TS2018-001" in body and "证据材料" in body and leaked(body) == []


def test_nothing_outside_the_secretariat_stores_the_identity(rt, verified):
    """Every outbox row to someone other than the secretariat and the complainant himself."""
    with rt.sessions() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient.not_in(("mishu1", "gongzhong1")))).all()
    assert rows and [r.kind for r in rows if leaked(json.dumps(r.data, ensure_ascii=False))] == []


def test_workbench_reports_and_the_approval_package_name_nobody(cb, rt, wecom, app, verified):
    http = app.test_client()
    assert sign_in(http, wecom, "mishu1").status_code == 302
    page = http.get("/admin/publicity").get_data(as_text=True)
    assert NAME in page and "13912345678" in page            # the secretariat's own complaint view
    for name in ("verification.md", "verification.html", "approval.md", "approval.html"):
        resp = http.get(f"/admin/reports/{name}")
        assert resp.status_code == 200, name
        assert leaked(resp.get_data(as_text=True)) == [], name
    docx = approval_files.docx_text(http.get("/admin/reports/approval.docx").data)
    assert "TS2018-001" in docx and leaked(docx) == []
    # The approval, recorded in chat, writes the package that goes with it: nobody named there either.
    say(cb, rt, "mishu1", "审批 2019-02-11 韶府函〔2019〕12号 SG2018-001,SG2018-002,SG2018-003")
    assert "评选情况报告已随审批结果存档" in texts(wecom, "mishu1")[-1]
    out = publications_dir(rt.settings)
    for ext in ("md", "html"):
        body = (out / f"shaoguan-2018-approval.{ext}").read_text(encoding="utf-8")
        assert "市政府于 2019年2月11日以韶府函〔2019〕12号批准获奖企业 3 家" in body and leaked(body) == []
    assert leaked(approval_files.docx_text((out / "shaoguan-2018-approval.docx").read_bytes())) == []


def test_the_public_page_and_the_archives_reports_name_nobody(http, rt, verified, tmp_path):
    assert leaked(http.get("/complaints").get_data(as_text=True)) == []
    pubdir = publications_dir(rt.settings)
    extra = {p.name: p.read_bytes() for p in sorted(pubdir.glob("*"))}
    out = tmp_path / "edition.zip"
    with rt.sessions.begin() as s:
        archive.export(s, rt.settings, actor="cli", now=START + dt.timedelta(days=30), out=out,
                       store=rt.services["documents"], extra_files=extra)
    with zipfile.ZipFile(out) as z:
        reports = [n for n in z.namelist() if n.startswith("reports/")]
        assert any("verification" in n for n in reports)
        for n in reports:
            content = z.read(n)
            body = approval_files.docx_text(content) if n.endswith(".docx") else content.decode("utf-8")
            assert leaked(body) == [], n
