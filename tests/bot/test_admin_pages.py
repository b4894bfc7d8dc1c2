"""Every workbench page on a full sample edition (`sample --until award`), for each role, through real sign-in.

One sample edition per module (it takes seconds to build); every test here only reads it, or restores what it
touched.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot import sample
from bot.app import create_app
from bot.runtime import build_runtime
from bot.simulator import FakeWeCom, serve_in_thread
from tests.bot.admin_helpers import sign_in
from tests.conftest import PG_SCHEMA, Clock, example_settings, reset_database
from workflows.apply.models import Application, Document
from workflows.core.db import make_engine
from workflows.core.models import AuditEntry
from workflows.scoring.models import Assignment
from workflows.tables import Base

NOW = dt.datetime(2019, 3, 10, 2, 0, tzinfo=dt.timezone.utc)   # the award stage of the first edition


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("workbench")
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
    clock = Clock(NOW)
    rt = build_runtime(settings, clock=clock, engine=engine)
    with rt.sessions.begin() as s:
        sample.run(s, settings, "award", clock())
    app = create_app(rt)
    app.testing = True
    yield SimpleNamespace(rt=rt, app=app, wecom=fake)
    handle.stop()
    engine.dispose()


def client_for(edition, userid: str):
    """A browser signed in as `userid`."""
    http = edition.app.test_client()
    assert sign_in(http, edition.wecom, userid).status_code == 302
    return http


@pytest.fixture(scope="module")
def mishu(edition):
    return client_for(edition, "mishu")


def text(resp) -> str:
    return resp.get_data(as_text=True)


def _apps(edition) -> list[Application]:
    with edition.rt.sessions() as s:
        return list(s.scalars(select(Application).order_by(Application.number)))


ALL = ("/admin/edition", "/admin/applications", "/admin/applications/1", "/admin/experts", "/admin/experts?phase=site",
       "/admin/scores", "/admin/scores?phase=site", "/admin/ranking", "/admin/vote", "/admin/publicity",
       "/admin/audit", "/admin/exports")


@pytest.mark.parametrize("path", ALL)
def test_the_secretariat_opens_every_page(mishu, path):
    resp = mishu.get(path)
    assert resp.status_code == 200, text(resp)[:2000]
    assert resp.headers["X-Content-Type-Options"] == "nosniff" and resp.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert "退出登录" in text(resp)


def test_the_edition_page(mishu, edition):
    page = text(mishu.get("/admin/edition"))
    for st in edition.rt.settings.award.stages:
        assert st.name in page
    assert re.search(r'id="current-stage">表彰奖励<', page)
    # issue 23.6: every stage's planned start beside its deadline; stages 1 and 2 are the decisions recorded
    assert "<th>计划开始</th>" in page and "<td>2018年12月1日</td>" in page and "<td>2019年4月1日</td>" in page
    assert "市政府批准：韶府函〔示例〕0号" in page and "议事规则：" in page and "第1次会议纪要（示例）" in page
    assert "<strong>40/40</strong><span>材料评审评分表已确认" in page
    assert "<strong>7/7</strong><span>第 1 轮投票" in page


def test_the_award_records_show_plaque_and_certificate(mishu):
    page = text(mishu.get("/admin/publicity"))   # issue 23.12: columns beside the prize payment
    assert "<th>奖牌</th><th>证书</th>" in page and '<td class="plaque">未颁发</td>' in page


def test_nobody_owes_anything_after_the_award(mishu):
    assert "目前没有人欠待办事项" in text(mishu.get("/admin/edition"))


def test_applications_filter_and_search(mishu, edition):
    apps = _apps(edition)
    assert len(apps) == 8
    listing = text(mishu.get("/admin/applications"))
    assert all(a.number in listing for a in apps)
    one = apps[0]
    for query in (one.number.lower(), one.credit_code, one.enterprise_name[2:6]):
        found = text(mishu.get("/admin/applications", query_string={"q": query}))
        assert one.number in found, query
    by_unit = text(mishu.get("/admin/applications", query_string={"unit": one.region_code or one.department}))
    assert one.number in by_unit
    others = [a for a in apps if (a.region_code or a.department) != (one.region_code or one.department)]
    assert others and all(a.number not in by_unit for a in others)
    by_status = text(mishu.get("/admin/applications", query_string={"status": "rejected"}))
    assert "没有符合条件的申报" in by_status
    industry = text(mishu.get("/admin/applications", query_string={"industry": one.industry}))
    assert one.number in industry
    assert "没有符合条件的申报" in text(mishu.get("/admin/applications", query_string={"q": "%"}))


def test_one_application_page(mishu, edition):
    app = _apps(edition)[0]
    page = text(mishu.get(f"/admin/applications/{app.id}"))
    assert app.enterprise_type == "llc"
    for part in (app.enterprise_name, app.credit_code, "企业类型", "有限责任公司（含一人有限责任公司", "申报条件", "推荐意见",
                 "形式审查", "已受理", "专家分配", "操作记录", "提交申报", "受理"):
        assert part in page, part
    # people by name and actions in words, never the stored codes (issue 24.4)
    trail = page.split('id="trail"')[1].split("</ol>")[0]
    assert f"{app.contact_name}（{app.enterprise_name}） · 填写申报信息" in trail and "示例数据 · 受理" in trail
    assert app.applicant not in trail and "application." not in trail and "document.attach" not in trail
    assert "审查决定" not in page   # decided long ago: no action offered
    assert page.count('class="download"') == len(list(_documents(edition, app.id)))


def _documents(edition, app_id):
    with edition.rt.sessions() as s:
        return list(s.scalars(select(Document).where(Document.application_id == app_id).order_by(Document.id)))


def test_documents_download_and_preview_after_the_hash_check(mishu, edition):
    app = _apps(edition)[0]
    doc = _documents(edition, app.id)[0]
    store = edition.rt.services["documents"]
    download = mishu.get(f"/admin/applications/{app.id}/documents/{doc.id}")
    assert download.status_code == 200 and download.data == store.read_bytes(doc.sha256, doc.size)
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    inline = mishu.get(f"/admin/applications/{app.id}/documents/{doc.id}?inline=1")
    assert inline.headers["Content-Disposition"].startswith("inline") and inline.mimetype == "application/pdf"
    assert inline.headers["X-Frame-Options"] == "SAMEORIGIN"
    preview = text(mishu.get(f"/admin/applications/{app.id}?preview={doc.id}"))
    assert f'src="/admin/applications/{app.id}/documents/{doc.id}?inline=1"' in preview
    # another application's document under this application's address: not found
    other = _documents(edition, _apps(edition)[1].id)[0]
    assert mishu.get(f"/admin/applications/{app.id}/documents/{other.id}").status_code == 404
    # a stored file that no longer matches its SHA-256 is never sent
    path = store.path_for(doc.sha256)
    original = path.read_bytes()
    try:
        path.write_bytes(original[:-1] + b"X")
        broken = mishu.get(f"/admin/applications/{app.id}/documents/{doc.id}")
        assert broken.status_code == 503 and original[:-1] not in broken.data
    finally:
        path.write_bytes(original)


def test_assignment_matrix(mishu, edition):
    page = text(mishu.get("/admin/experts"))
    assert page.count('<td class="assigned') == 40
    for a in _apps(edition):
        assert a.number in page
    assert re.search(r'id="load-zhuanjia1">\d+<', page)
    assert "同地区" in page or "同单位" in page or "已声明回避" in page
    # The group (23.1, 23.2): the engaged leader and the drawn experts, each reached through the roster.
    assert 'id="panel"' in page and "聘请的组长" in page and "已接受承诺书" in page
    assert "尚未加入通讯录" not in page and "待确认承诺书" not in page


def test_score_sheets_item_by_item(mishu, edition):
    app = _apps(edition)[0]
    page = text(mishu.get("/admin/scores", query_string={"app": app.id}))
    assert 'id="totals"' in page and 'id="items"' in page and f"逐项：{app.number}" in page
    assert "4.1.2 高层领导的作用" in page and "%" in page


def test_ranking_with_gate_and_composite(mishu):
    page = text(mishu.get("/admin/ranking"))
    assert 'id="ranking-material"' in page and 'id="ranking-composite"' in page
    assert "报告已确认" in page and "入围现场考评" in page and "已确定的投票候选名单" in page


def test_vote_shows_who_voted_never_how(mishu, edition):
    page = text(mishu.get("/admin/vote"))
    assert "已产生结果" in page and page.count("已投票</td>") == 7
    assert "法定人数为三分之二，即至少 5 位" in page        # the fraction in words, next to the count
    assert 'id="winners"' in page
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td></tr>", page.split('class="turnout-list"')[1].split("</table>")[0])
    assert rows and {state for _, state in rows} <= {"已投票", "未投票", "回避"}
    verified = text(mishu.get("/admin/vote?verify=1"))
    assert "第 1 轮：<span class=\"ok\">一致</span>" in verified


def test_publicity_and_complaints(mishu):
    page = text(mishu.get("/admin/publicity"))
    assert "林晓" in page and "13800138000" in page and "不成立" in page   # the secretariat sees the complainant
    assert "韶府函〔示例〕1号" in page


def test_complaint_evidence_opens_and_a_letter_shows_how_it_came(mishu, edition):
    from workflows.publicity.models import Complaint, ComplaintEvidence, Publicity
    doc = _documents(edition, _apps(edition)[0].id)[0]     # a stored PDF stands in for the scanned letter
    store = edition.rt.services["documents"]
    with edition.rt.sessions.begin() as s:
        chat = s.scalar(select(Complaint).where(Complaint.number.is_not(None)))
        pub = s.scalar(select(Publicity))
        letter = Complaint(edition=chat.edition, number="TS-LETTER", publicity_id=pub.id,
                           application_id=chat.application_id, complainant="offline", content="来信反映的情况",
                           real_name="张三", phone="13700137000", status="submitted", created_at=NOW,
                           submitted_at=NOW, channel="letter", received_on="2019-02-03", registered_by="mishu")
        s.add(letter)
        s.flush()
        scan = ComplaintEvidence(complaint_id=letter.id, sha256=doc.sha256, size=doc.size, kind="pdf",
                                 original_name="来信扫描.pdf", received_at=NOW)
        s.add(scan)
        s.flush()
        ids = (letter.id, scan.id)
    try:
        page = text(mishu.get("/admin/publicity"))
        article = page.split('id="complaint-TS-LETTER"')[1].split("</article>")[0]
        assert "收到方式：来信（2019年2月3日收到） · 登记人：" in article
        assert f'<a class="download" href="/admin/publicity/evidence/{ids[1]}">来信扫描.pdf</a>' in article
        assert f'href="/admin/publicity/evidence/{ids[1]}?inline=1"' in article
        chat_part = page.split(f'id="complaint-{chat.number}"')[1].split("</article>")[0]
        assert "收到方式：企业微信" in chat_part and "未提交证据材料" in chat_part
        got = mishu.get(f"/admin/publicity/evidence/{ids[1]}")
        assert got.status_code == 200 and got.data == store.read_bytes(doc.sha256, doc.size)
        assert got.headers["Content-Disposition"].startswith("attachment") and "nosniff" in str(got.headers)
        inline = mishu.get(f"/admin/publicity/evidence/{ids[1]}?inline=1")
        assert inline.headers["Content-Disposition"].startswith("inline") and inline.mimetype == "application/pdf"
        assert mishu.get("/admin/publicity/evidence/99999").status_code == 404
        # the group leader (no publicity page) gets nothing, not even whether the file exists
        assert client_for(edition, "zuzhang").get(f"/admin/publicity/evidence/{ids[1]}").status_code == 403
        # a file whose bytes no longer match its SHA-256 is never sent
        path = store.path_for(doc.sha256)
        original = path.read_bytes()
        try:
            path.write_bytes(original[:-1] + b"X")
            assert mishu.get(f"/admin/publicity/evidence/{ids[1]}").status_code == 503
        finally:
            path.write_bytes(original)
    finally:
        with edition.rt.sessions.begin() as s:
            s.delete(s.get(ComplaintEvidence, ids[1]))
            s.flush()
            s.delete(s.get(Complaint, ids[0]))


def test_audit_log_and_its_verification(mishu, edition):
    page = text(mishu.get("/admin/audit"))
    assert 'id="audit"' in page and "下一页" not in page
    ok = text(mishu.get("/admin/audit?verify=1"))
    assert 'id="chain-ok"' in ok
    filtered = text(mishu.get("/admin/audit", query_string={"action": "review."}))
    assert "受理" in filtered and "确认评分表" not in filtered
    with edition.rt.sessions.begin() as s:
        entry = s.get(AuditEntry, 5)
        saved = entry.details
        entry.details = {**saved, "tampered": True}
    try:
        bad = text(mishu.get("/admin/audit?verify=1"))
        assert 'id="chain-bad"' in bad and "第 5 条记录被修改" in bad
    finally:
        with edition.rt.sessions.begin() as s:
            s.get(AuditEntry, 5).details = saved


def test_the_audit_log_reads_in_words_and_keeps_the_codes_in_its_raw_view(mishu, edition):
    app = _apps(edition)[0]
    subject = {"subject": f"application:{app.id}"}
    page = text(mishu.get("/admin/audit", query_string=subject))
    table = page.split('id="audit"')[1].split("</table>")[0]
    assert f"申报 {app.number} · {app.enterprise_name}" in table and f"application:{app.id}" not in table
    assert "<td>受理</td>" in table and "<td>秘书处·李敏</td>" in table and "=None" not in table
    assert "None" not in table and "review.accept" not in table and "application.set" not in table
    assert "推荐单位：" in table                   # the details' keys in words, the recommenders by name
    awarded = text(mishu.get("/admin/audit", query_string={"action": "award.announce"}))
    winners = [a.number for a in _apps(edition) if a.id in {2, 7, 8}]
    assert "获奖企业：" + "、".join(winners) in awarded                 # application ids read as their numbers
    tally = text(mishu.get("/admin/audit", query_string={"action": "vote.tally"}))
    assert "得票：SG2018-" in tally and "app-" not in tally.split('id="audit"')[1]
    assert "sha256" not in text(mishu.get("/admin/audit", query_string={"action": "document."})).split('id="audit"')[1]
    raw = text(mishu.get("/admin/audit", query_string={**subject, "raw": "1"}))
    table = raw.split('id="audit"')[1].split("</table>")[0]
    assert "<code>review.accept</code>" in table and f"<code>application:{app.id}</code>" in table
    assert "&#34;reason&#34;:null" in table or '"reason":null' in table   # the stored details, whole
    by_name = text(mishu.get("/admin/audit", query_string={"actor": "李敏", "raw": "1"})).split('id="audit"')[1]
    assert "<code>mishu</code>" in by_name and "<code>zuzhang</code>" not in by_name
    stage = text(mishu.get("/admin/audit", query_string={"subject": "stage:apply"}))
    assert "阶段 · " + edition.rt.settings.award.stage("apply").name in stage


def test_every_audited_action_has_a_name():
    """Each action any module records (audit.record, people._leave) has a label in templates/_names.j2."""
    from pathlib import Path

    from bot.web.admin.names import action, table
    words = table(edition_env())
    root = Path(__file__).resolve().parents[2]
    found = set()
    for path in [*(root / "workflows").rglob("*.py"), *(root / "bot").rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        for call in re.finditer(r"(?:audit\.record|_leave)\(", source):
            segment = source[call.end():call.end() + 300].split("subject=")[0].split("now=")[0]
            found |= set(re.findall(r'"([a-z_]+\.[a-z_.]+)"', segment))
            found |= {f + "x" for f in re.findall(r'f"([a-z_]+\.[a-z_.]*)\{', segment)}  # review.finding.{kind}
    assert len(found) > 70
    assert [a for a in sorted(found) if action(words, a) == a] == []


def edition_env():
    from jinja2 import Environment, FileSystemLoader

    from bot.render import TEMPLATES
    return Environment(loader=FileSystemLoader(str(TEMPLATES)))


def test_exports_speak_words_and_dates(mishu, edition):
    book = load_workbook(io.BytesIO(mishu.get("/admin/exports/applications.xlsx").data))
    rows = list(book.active.values)
    accepted = [r for r in rows[1:] if r[5] == "已受理"]
    assert accepted and {r[9] for r in accepted} == {"已受理"} and "accepted" not in {r[9] for r in rows}
    dated = next(book.active.iter_rows(min_row=2, max_row=2))[8]
    assert isinstance(dated.value, dt.datetime) and dated.number_format == 'yyyy"年"m"月"d"日" hh:mm'
    book = load_workbook(io.BytesIO(mishu.get("/admin/exports/assignments.xlsx").data))
    assert {r[6] for r in list(book.active.values)[1:]} == {"已确认"}
    book = load_workbook(io.BytesIO(mishu.get("/admin/exports/scores.xlsx").data))
    material = list(book["材料评审"].values)
    assert {r[4] for r in material[1:]} == {"已确认"} and {r[5] for r in material[1:]} == {"企业微信"}


# -- charts: server-rendered SVG, each with its numbers in a table beside it (issue 24.5) ----------------------
def _svg(page: str, marker: str) -> str:
    """The first chart after `marker`."""
    part = page.split(marker, 1)[1]
    return part[part.index("<svg"):part.index("</svg>") + 6]


def _cells(table_html: str) -> list[list[str]]:
    return [[re.sub(r"<[^>]+>", " ", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table_html, re.S)]


def test_the_edition_chart_matches_its_table(mishu, edition):
    page = text(mishu.get("/admin/edition"))
    svg = _svg(page, "<h3>各状态的申报</h3>")
    assert 'role="img"' in svg and "<script" not in page and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    bars = re.findall(r'<g class="bar [^"]*" data-label="([^"]+)" data-value="([^"]+)"', svg)
    table = _cells(page.split('id="status-data"')[1].split("</table>")[0])[1:]
    assert bars and [(label, value) for label, value in bars] == [(r[0], r[1]) for r in table]
    with edition.rt.sessions() as s:
        assert sum(int(v) for _, v in bars) == len(list(s.scalars(select(Application))))
    # the funnel: how far the applications got, step by step
    funnel = re.findall(r'<g class="bar [^"]*" data-label="([^"]+)" data-value="([^"]+)"', _svg(page, 'id="progress"'))
    table = _cells(page.split('id="reached-data"')[1].split("</table>")[0])[1:]
    assert funnel == [(r[0], r[1]) for r in table]
    assert [int(v) for _, v in funnel] == [8, 8, 8, 6, 5, 3, 3]


def test_the_score_spread_charts_match_their_tables(mishu, edition):
    page = text(mishu.get("/admin/scores"))
    svg = _svg(page, 'id="totals-chart"')
    rows = _cells(page.split('id="totals"')[1].split("</tbody>")[0])
    experts, body = rows[0][1:-4], rows[1:]
    from_table = {(r[0].split()[-2] if r[0].startswith("⚑") else r[0].split()[0], experts[i]): float(v)
                  for r in body for i, v in enumerate(r[1:1 + len(experts)]) if v}
    from_chart = {}
    for label, inner in re.findall(r'<g class="dotrow[^"]*" data-label="([^"]+)">(.*?)</g>', svg, re.S):
        for name, value in re.findall(r'data-series="([^"]+)" data-value="([^"]+)"', inner):
            from_chart[(label, name)] = float(value)
    assert len(from_chart) == 40 and from_chart == from_table
    # item by item for one application: each expert's percentage per item, as in the table below it
    app = _apps(edition)[0]
    page = text(mishu.get("/admin/scores", query_string={"app": app.id}))
    svg = _svg(page, 'id="items-chart"')
    table = _cells(page.split('class="items"')[1].split("</tbody>")[0])
    names = [h.split()[0] for h in table[0][2:]]
    for row in table[1:]:
        key = row[0].lstrip("⚑ ").split()[0]
        inner = re.search(rf'data-label="{re.escape(key)}">(.*?)</g>', svg, re.S).group(1)
        dots = dict(re.findall(r'data-series="([^"]+)" data-value="([^"]+)"', inner))
        assert {n: float(v.rstrip("%")) for n, v in zip(names, row[2:])} == {n: float(v) for n, v in dots.items()}


def test_the_ranking_chart_shows_the_gate_and_the_cut(mishu, edition):
    page = text(mishu.get("/admin/ranking"))
    rules = edition.rt.settings.award.rules
    svg = _svg(page, 'id="rank-material"')
    bars = re.findall(r'<g class="bar ([^"]*)" data-label="([^"]+)" data-value="([^"]+)"', svg)
    table = _cells(page.split('id="ranking-material"')[1].split("</table>")[0])[1:]
    assert [(b[1], float(b[2])) for b in bars] == [(r[1].split()[0], float(r[2])) for r in table]
    assert [b[0] == "selected" for b in bars] == [r[3] == "入围现场考评" for r in table]
    assert re.search(rf'<g class="mark gate" data-value="{rules.material_gate}">', svg)
    cut = re.search(r'<g class="mark cut" data-value="([^"]+)">', svg).group(1)
    assert float(cut) == float(table[rules.candidates_max - 1][2])
    composite = _svg(page, 'id="rank-site"')
    bars = re.findall(r'data-label="([^"]+)" data-value="([^"]+)"', composite)
    table = _cells(page.split('id="ranking-composite"')[1].split("</table>")[0])[1:]
    assert [(b[0], float(b[1])) for b in bars] == [(r[1].split()[0], float(r[4])) for r in table]


def test_the_vote_chart_shows_participation_never_choices(mishu, edition):
    page = text(mishu.get("/admin/vote"))
    svg = _svg(page, 'id="round-1"')
    parts = dict(re.findall(r'data-name="([^"]+)" data-value="([^"]+)"', svg))
    turnout = page.split('id="round-1"')[1].split('class="turnout-list"')[1].split("</table>")[0]
    assert parts == {"已投票": str(turnout.count("已投票</td>")), "未投票": str(turnout.count("未投票</td>")),
                     "回避": str(turnout.count("回避</td>"))}
    table = _cells(page.split('class="figure-data participation"')[1].split("</table>")[0])
    assert dict(zip(table[0], table[1])) == parts
    assert re.search(r'<g class="mark gate" data-value="5">', svg)
    with edition.rt.sessions() as s:
        assert all(a.enterprise_name not in svg and a.number not in svg for a in s.scalars(select(Application)))


def test_exports_open_in_openpyxl(mishu, edition):
    apps = _apps(edition)
    book = load_workbook(io.BytesIO(mishu.get("/admin/exports/applications.xlsx").data))
    rows = list(book.active.values)
    assert rows[0][:3] == ("申报编号", "企业名称", "统一社会信用代码")
    assert sorted(r[0] for r in rows[1:]) == sorted(a.number for a in apps)
    book = load_workbook(io.BytesIO(mishu.get("/admin/exports/assignments.xlsx").data))
    with edition.rt.sessions() as s:
        assigned = len(list(s.scalars(select(Assignment))))
    assert len(list(book.active.values)) == assigned + 1
    resp = mishu.get("/admin/exports/scores.xlsx")
    assert resp.headers["Content-Disposition"].startswith("attachment") and resp.mimetype.endswith("sheet")
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["材料评审", "现场考评", "汇总"]
    material = list(book["材料评审"].values)
    assert len(material) == 41 and material[0][-1] == "总分" and isinstance(material[1][-1], float)
    summary = list(book["汇总"].values)
    assert len(summary) == 1 + 8 + 6


FORMULA = '=HYPERLINK("http://example.invalid/x","查看材料")'


def test_exported_text_a_person_typed_is_never_a_formula(mishu, edition):
    """An enterprise named like a formula, a contact `@…` and a phone `+…` come out as text (issue 22.2)."""
    number = _apps(edition)[0].number
    with edition.rt.sessions.begin() as s:
        app = s.scalar(select(Application).where(Application.number == number))
        saved = app.enterprise_name, app.contact_name, app.contact_phone
        app.enterprise_name, app.contact_name, app.contact_phone = FORMULA, "@SUM(A1)", "+8613800000000"
    try:
        for path in ("applications", "assignments", "scores"):
            book = load_workbook(io.BytesIO(mishu.get(f"/admin/exports/{path}.xlsx").data))
            cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
            assert not [c.value for c in cells if c.data_type == "f"], path
            assert "'" + FORMULA in [c.value for c in cells], path
        rows = list(load_workbook(io.BytesIO(mishu.get("/admin/exports/applications.xlsx").data)).active.values)
        mine = next(r for r in rows if r[0] == number)
        assert "'@SUM(A1)" in mine and "'+8613800000000" in mine
    finally:
        with edition.rt.sessions.begin() as s:
            app = s.scalar(select(Application).where(Application.number == number))
            app.enterprise_name, app.contact_name, app.contact_phone = saved


@pytest.mark.parametrize("name,marker", [("material.html", "<html"), ("site.md", "现场"), ("vote.md", "投票结果"),
                                         ("verification.md", "核查报告")])
def test_reports_download(mishu, name, marker):
    resp = mishu.get(f"/admin/reports/{name}")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].startswith("attachment")
    assert marker in text(resp)


def test_unknown_things_are_not_found(mishu):
    assert mishu.get("/admin/applications/99999").status_code == 404
    assert mishu.get("/admin/reports/secrets.txt").status_code == 404
    assert mishu.get("/admin/applications/1/documents/99999").status_code == 404


# -- the same gate as chat: who sees what ------------------------------------------------------------------
ROLE_PAGES = {
    # userid: pages that answer 200; every other section answers 403
    "zuzhang": {"/admin/experts", "/admin/scores", "/admin/ranking", "/admin/applications"},
    "weiyuan1": {"/admin/vote", "/admin/ranking"},
    "zhuanjia1": {"/admin/applications"},
}
SECTIONS = ("/admin/edition", "/admin/applications", "/admin/experts", "/admin/scores", "/admin/ranking",
            "/admin/vote", "/admin/publicity", "/admin/audit", "/admin/exports", "/admin/exports/scores.xlsx",
            "/admin/reports/vote.md")


@pytest.mark.parametrize("userid", sorted(ROLE_PAGES))
def test_each_role_sees_its_pages_only(edition, userid):
    http = client_for(edition, userid)
    for path in SECTIONS:
        expected = 200 if path in ROLE_PAGES[userid] else 403
        resp = http.get(path)
        assert resp.status_code == expected, (userid, path)
        if expected == 403:
            assert "无权查看" in text(resp)
    menu = text(http.get(sorted(ROLE_PAGES[userid])[0]))
    assert ("审计日志" in menu) is False and ("导出" in menu) is False


def test_an_expert_sees_only_the_applications_assigned_to_him(edition):
    apps = _apps(edition)
    with edition.rt.sessions() as s:
        for expert in ("zhuanjia1", "zhuanjia2", "zhuanjia3", "zhuanjia4", "zhuanjia5"):
            mine = set(s.scalars(select(Assignment.application_id).where(Assignment.expert == expert)))
            if len(mine) < len(apps):
                break
    other = next(a for a in apps if a.id not in mine)
    http = client_for(edition, expert)
    listing = text(http.get("/admin/applications"))
    assert all((a.number in listing) == (a.id in mine) for a in apps)
    assert "分配给我的申报" in listing
    assert http.get(f"/admin/applications/{other.id}").status_code == 404
    assert http.get(f"/admin/applications/{other.id}/documents/{_documents(edition, other.id)[0].id}").status_code == 404
    own = next(a for a in apps if a.id in mine)
    page = text(http.get(f"/admin/applications/{own.id}"))
    assert own.enterprise_name in page and "操作记录" not in page and "推荐意见" not in page
    doc = _documents(edition, own.id)[0]
    assert http.get(f"/admin/applications/{own.id}/documents/{doc.id}").status_code == 200


def test_an_expert_cannot_take_review_decisions(edition):
    http = client_for(edition, "zhuanjia1")
    page = http.get("/admin/applications")
    token = re.search(r'name="csrf" value="([^"]+)"', text(page)).group(1)
    with edition.rt.sessions() as s:
        mine = s.scalar(select(Assignment.application_id).where(Assignment.expert == "zhuanjia1"))
    refused = http.post(f"/admin/applications/{mine}/review", data={"csrf": token, "action": "accept",
                                                                     "confirmed": "1"})
    assert refused.status_code == 409 and "没有执行" in text(refused)
    with edition.rt.sessions() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "access.refused")
                         .order_by(AuditEntry.id.desc()))
        assert entry.actor == "zhuanjia1" and entry.subject == "review.decide" and entry.details["role"] == "expert"



def test_the_secretariat_downloads_an_applicants_feedback_report(mishu, edition):
    app = _apps(edition)[0]
    page = text(mishu.get(f"/admin/applications/{app.id}"))
    assert f'href="/admin/applications/{app.id}/feedback.html"' in page
    resp = mishu.get(f"/admin/applications/{app.id}/feedback.html")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].startswith("attachment")
    assert app.enterprise_name in text(resp) and "反馈报告" in text(resp) and "主要优势" in text(resp)
    assert mishu.get(f"/admin/applications/{app.id}/feedback.pdf").status_code == 404
    with edition.rt.sessions() as s:
        mine = s.scalar(select(Assignment.application_id).where(Assignment.expert == "zhuanjia1"))
    expert = client_for(edition, "zhuanjia1")
    assert expert.get(f"/admin/applications/{mine}/feedback.html").status_code == 404
