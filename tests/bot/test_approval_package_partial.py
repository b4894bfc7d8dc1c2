"""The approval package on a partial sample edition (up to the vote) and on an empty one: a draft that says what
is missing, or a polite refusal; never a claimed result. (Apart from test_approval_package.py: on PostgreSQL every
edition built here resets the one test schema, which that module's shared edition must not see.)
"""
from __future__ import annotations

import datetime as dt

import pytest

from bot import sample
from bot.handlers.publicity import publications_dir
from tests.bot.admin_helpers import sign_in
from tests.bot.test_approval_package import NOW, _build, cli
from workflows import publicity


@pytest.fixture
def partial(tmp_path):
    """The sample up to the vote stage: scores final, no vote yet."""
    ed = _build(tmp_path, "vote")
    yield ed
    ed.handle.stop()
    ed.engine.dispose()


def test_a_partial_edition_is_a_draft_that_says_what_is_missing(partial, tmp_path):
    rt = partial.rt
    with rt.sessions() as s:
        data = publicity.package_data(s, rt.settings, now=NOW)
    assert data["gaps"] == ["vote_not_decided", "publicity_not_started"] and data["proposed"] == []
    result = cli(rt, "approval", "package", "--out", str(tmp_path / "draft.md"))
    assert "评审委员会投票尚未产生拟获奖企业" in result.stderr and "拟获奖企业名单尚未公示" in result.stderr
    md = (tmp_path / "draft.md").read_text(encoding="utf-8")
    assert "本报告尚未完成，不能作为评选结果报送" in md and "评审委员会尚未投票" in md
    assert "暂无报请审批的获奖企业名单" in md and "报请市政府审批：" not in md
    assert data["ranking"]["composite"][0]["composite"] in md      # what is known is still shown
    default = cli(rt, "approval", "package", "--format", "html")
    assert (publications_dir(rt.settings) / "shaoguan-2018-approval.html").exists()
    assert "shaoguan-2018-approval.html" in default.output


def test_an_empty_edition_is_refused_politely(tmp_path):
    ed = _build(tmp_path, "")
    try:
        result = cli(ed.rt, "approval", "package", code=1)
        assert "还没有收到任何申报" in result.stderr
        assert not (publications_dir(ed.rt.settings) / "shaoguan-2018-approval.md").exists()
        with ed.rt.sessions.begin() as s:
            sample.ensure_roster(s, NOW, ed.rt.settings)
        http = ed.app.test_client()
        assert sign_in(http, ed.wecom, "mishu").status_code == 302
        assert "approval.docx" not in http.get("/admin/exports").get_data(as_text=True)
        assert http.get("/admin/reports/approval.docx").status_code == 404
    finally:
        ed.handle.stop()
        ed.engine.dispose()


def test_an_open_vote_is_sealed_in_the_package(partial):
    from workflows import voting
    from workflows.core import stages
    from bot import approval as approval_files
    rt = partial.rt
    with rt.sessions.begin() as s:
        stages.open_stage(s, rt.settings, "vote", actor="cli", now=NOW)
        stages.extend(s, rt.settings, "vote", NOW + dt.timedelta(days=5), actor="cli", now=NOW, reason="test")
        # §五(三) (on in the example configuration): the members signed and declared their interests first.
        from bot.samples.base import sign_pledges
        from workflows.core import people
        from workflows.voting import declarations
        sign_pledges(s, rt.settings, NOW, ("committee",))
        for member in people.with_role(s, "committee", "committee_chair"):
            declarations.declare(s, rt.settings, actor=member.userid, now=NOW)
        voting.open_ballot(s, rt.settings, actor="cli", now=NOW, candidates=voting.final_candidates(s, rt.settings),
                           closes_at=NOW + dt.timedelta(days=2))
    with rt.sessions() as s:
        data = publicity.package_data(s, rt.settings, now=NOW)
    [round1] = data["vote"]["rounds"]
    assert round1["counted"] is False and all(c["votes"] is None for c in round1["candidates"])
    assert "vote_not_decided" in data["gaps"]
    for fmt in ("md", "html"):
        text = approval_files.render(rt.renderer, data, fmt).decode()
        assert "本轮投票尚未截止，票数不予公布" in text and "投票结果：尚未产生拟获奖企业" in text
        assert "实际投票 0 位" in text and "（已延期）" in text


def test_a_bar_or_a_line_break_in_a_name_keeps_the_tables_whole(partial):
    from bot import approval as approval_files
    from workflows.apply.models import Application
    rt = partial.rt
    with rt.sessions.begin() as s:
        s.get(Application, 1).enterprise_name = "韶关|管道\n工程有限公司"
    with rt.sessions() as s:
        data = publicity.package_data(s, rt.settings, now=NOW)
    md = approval_files.render(rt.renderer, data, "md").decode()
    assert "韶关｜管道 工程有限公司" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "SG2018-" in line]
    assert rows and {line.count("|") for line in rows if "材料" not in line} <= {4, 6, 8}
    assert "韶关｜管道 工程有限公司" in approval_files.docx_text(approval_files.render(rt.renderer, data, "docx"))
