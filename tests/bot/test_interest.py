"""利益冲突声明 per assignment (issue 25.4), through the encrypted webhook and the workbench: the files of an
assigned application open only after the expert declared no conflict; a declared conflict is a 回避 with a reason
code that withdraws the assignment and asks the secretariat to reassign; the approval report lists them."""
from __future__ import annotations

from sqlalchemy import delete, select

from bot import approval, sample
from tests.bot.admin_helpers import csrf, sign_in
from tests.bot.conftest import deliver, texts
from workflows.apply.models import Application
from workflows.core.models import AuditEntry
from workflows.publicity.package import package_data
from workflows.scoring.models import Assignment, ConflictDeclaration, InterestDeclaration


def _undeclared(rt, clock):
    """The sample's material review with one expert's declarations taken back: (expert, number, app id, files)."""
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "material", clock())
    with rt.sessions.begin() as s:
        a = s.scalars(select(Assignment).order_by(Assignment.id)).first()
        s.execute(delete(InterestDeclaration).where(InterestDeclaration.expert == a.expert))
        app = s.get(Application, a.application_id)
        files = len([d for d in app.documents if d.status == "received"])
        result = a.expert, app.number, app.id, files
    deliver(rt)
    return result


def _cards(wecom, userid):
    return [b["template_card"] for b in wecom.messages_to(userid) if b.get("msgtype") == "template_card"]


def _click(cb, rt, wecom, userid, card, key):
    code = wecom.issue_response_code(card["task_id"], userid)
    cb.send(cb.template_card_event(userid, key, card["task_id"], card["card_type"], code, {}))
    deliver(rt)


def _files(wecom, userid, since):
    return [m for m in wecom.messages_to(userid)[since:] if m.get("msgtype") == "file"]


def test_files_open_only_after_the_expert_declares_no_conflict(cb, rt, wecom, clock):
    expert, number, app_id, files = _undeclared(rt, clock)
    before = len(wecom.messages_to(expert))
    cb.send(cb.text(expert, f"查阅 {number}"))
    deliver(rt)
    assert _files(wecom, expert, before) == []
    asked = texts(wecom, expert)[-2] if texts(wecom, expert)[-1].startswith("利益冲突") else texts(wecom, expert)[-1]
    assert "利益冲突声明" in asked and "近 3 年" in asked and "供应商" in asked and "亲属" in asked
    card = _cards(wecom, expert)[-1]
    assert [b["text"] for b in card["button_list"]] == ["无利益冲突", "存在利益冲突"]
    _click(cb, rt, wecom, expert, card, f"interest:none:{app_id}")
    with rt.sessions() as s:   # the tap asks to confirm; nothing is recorded yet
        assert s.scalar(select(InterestDeclaration).where(InterestDeclaration.expert == expert)) is None
    confirm = _cards(wecom, expert)[-1]
    assert "无利益冲突" in confirm["main_title"]["title"]
    before = len(wecom.messages_to(expert))
    _click(cb, rt, wecom, expert, confirm, confirm["button_list"][0]["key"])
    assert len(_files(wecom, expert, before)) == files > 0   # what he asked for arrives at once
    with rt.sessions() as s:
        row = s.scalar(select(InterestDeclaration).where(InterestDeclaration.expert == expert,
                                                         InterestDeclaration.application_id == app_id))
        assert row.outcome == "none" and row.code == ""
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "interest.declare")
                         .order_by(AuditEntry.id.desc()).limit(1))   # the newest: the sample declared before
        assert entry.actor == expert and entry.details["outcome"] == "none"
    before = len(wecom.messages_to(expert))
    cb.send(cb.text(expert, f"查阅 {number}"))   # from now on the files come without asking
    deliver(rt)
    assert len(_files(wecom, expert, before)) == files
    cb.send(cb.text(expert, f"声明 {number} 无冲突"))
    deliver(rt)
    assert "无需重复声明" in texts(wecom, expert)[-1]


def test_a_declared_conflict_with_its_code_withdraws_the_assignment_and_asks_to_reassign(cb, rt, wecom, clock):
    expert, number, app_id, _ = _undeclared(rt, clock)
    cb.send(cb.text(expert, f"声明 {number}"))
    deliver(rt)
    _click(cb, rt, wecom, expert, _cards(wecom, expert)[-1], f"interest:conflict:{app_id}")
    assert "原因代码" in texts(wecom, expert)[-1] and "2 咨询或顾问服务" in texts(wecom, expert)[-1]
    cb.send(cb.text(expert, "2 去年为该企业做过质量管理咨询"))
    deliver(rt)
    confirm = _cards(wecom, expert)[-1]
    assert "咨询或顾问服务" in confirm["quote_area"]["quote_text"]
    secretariat_before = len(texts(wecom, "mishu"))
    _click(cb, rt, wecom, expert, confirm, confirm["button_list"][0]["key"])
    assert "咨询或顾问服务" in texts(wecom, expert)[-1]
    told = texts(wecom, "mishu")[secretariat_before:]
    assert any("咨询或顾问服务" in t and "另行分配" in t and number in t for t in told)
    with rt.sessions() as s:
        row = s.scalar(select(InterestDeclaration).where(InterestDeclaration.expert == expert,
                                                         InterestDeclaration.application_id == app_id))
        assert (row.outcome, row.code, row.note) == ("conflict", "consulting", "去年为该企业做过质量管理咨询")
        assert s.scalar(select(ConflictDeclaration).where(ConflictDeclaration.expert == expert)) is not None
        assert s.scalar(select(Assignment).where(Assignment.expert == expert,
                                                 Assignment.application_id == app_id)) is None


def test_a_bad_code_changes_nothing_and_a_free_text_reason_counts_as_other(cb, rt, wecom, clock):
    expert, number, app_id, _ = _undeclared(rt, clock)
    cb.send(cb.text(expert, f"回避 {number} 我是该企业的独立董事"))
    deliver(rt)
    confirm = _cards(wecom, expert)[-1]
    assert "其他利害关系" in confirm["quote_area"]["quote_text"]
    _click(cb, rt, wecom, expert, confirm, confirm["button_list"][0]["key"])
    with rt.sessions() as s:
        row = s.scalar(select(InterestDeclaration).where(InterestDeclaration.expert == expert))
        assert (row.outcome, row.code) == ("conflict", "other")


def test_the_workbench_shows_the_declaration_before_the_documents(cb, rt, wecom, clock, http):
    expert, number, app_id, _ = _undeclared(rt, clock)
    with rt.sessions() as s:
        doc = sorted(s.get(Application, app_id).documents, key=lambda d: d.id)[0].id
    sign_in(http, wecom, expert)
    page = http.get(f"/admin/applications/{app_id}")
    html = page.get_data(as_text=True)
    assert 'id="interest"' in html and 'id="documents-closed"' in html and 'id="documents"' not in html
    assert http.get(f"/admin/applications/{app_id}/documents/{doc}").status_code == 404
    unticked = http.post(f"/admin/applications/{app_id}/interest", data={"csrf": csrf(page.data), "outcome": "none"})
    assert unticked.status_code == 400
    with rt.sessions() as s:
        assert s.scalar(select(InterestDeclaration).where(InterestDeclaration.expert == expert)) is None
    done = http.post(f"/admin/applications/{app_id}/interest",
                     data={"csrf": csrf(page.data), "outcome": "none", "confirmed": "1"})
    assert done.status_code == 303 and done.headers["Location"].endswith("?done=interest")
    html = http.get(f"/admin/applications/{app_id}").get_data(as_text=True)
    assert 'id="documents"' in html and 'id="interest"' not in html
    assert http.get(f"/admin/applications/{app_id}/documents/{doc}").status_code == 200
    # The secretariat's page of the application lists every declaration with its expert.
    sign_in(http, wecom, "mishu")
    html = http.get(f"/admin/applications/{app_id}").get_data(as_text=True)
    assert 'id="interests"' in html and "无利益冲突" in html


def test_the_approval_report_lists_the_declarations_without_names(cb, rt, wecom, clock):
    expert, number, app_id, _ = _undeclared(rt, clock)
    cb.send(cb.text(expert, f"回避 {number} 5 配偶在该企业任副总经理"))
    deliver(rt)
    confirm = _cards(wecom, expert)[-1]
    _click(cb, rt, wecom, expert, confirm, confirm["button_list"][0]["key"])
    with rt.sessions() as s:
        data = package_data(s, rt.settings, now=clock())
        names = [p for p in s.scalars(select(Assignment.expert))]
        from workflows.core.models import Person
        expert_names = [p.name for p in s.scalars(select(Person).where(Person.userid.in_(names + [expert])))]
    md = approval.render(rt.renderer, data, "md").decode()
    assert "利益冲突声明" in md and "近 3 年" in md
    line = next(x for x in md.splitlines() if x.startswith(f"| {number} "))
    assert "名专家声明无利益冲突" in line and "1 名回避（亲属关系）" in line
    assert not any(n and n in md for n in expert_names)
    assert "利益冲突声明" in approval.render(rt.renderer, data, "html").decode()
