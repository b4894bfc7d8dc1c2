"""What a winner receives is recorded, never silently overwritten (issue 21.3): a second `award pay` / `奖金` for a
winner already paid is refused; a correction needs --replace --reason (or a confirmed 更正) and keeps the old
reference in the audit."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.bot.application_helpers import confirm_last, last_card
from tests.bot.conftest import deliver, texts
from tests.workflows.publicity_fixtures import START, committee_result, make_apps, make_roster
from workflows import publicity
from workflows.core import audit

from .cli_helpers import digest, invoke

AFTER = START + dt.timedelta(days=11)


@pytest.fixture
def announced(rt, clock):
    """Three approved winners, announced; the clock after the notice."""
    clock.set(START)
    with rt.sessions.begin() as s:
        ids = make_apps(s, rt.settings)
        make_roster(s)
        committee_result(s, rt.settings, ids[:3], ids[3:])
        publicity.start_publicity(s, rt.settings, actor="mishu1", now=START)
        publicity.send_report(s, rt.settings, actor="mishu1", now=AFTER)
        publicity.record_approval(s, rt.settings, actor="mishu1", now=AFTER, approved_on=AFTER.date(),
                                  document_number="韶府函〔2019〕12号", approved=ids[:3])
        publicity.announce(s, rt.settings, actor="mishu1", now=AFTER)
    clock.set(AFTER + dt.timedelta(hours=1))
    return ids


def test_a_second_award_pay_is_refused_unless_replaced_with_a_reason(rt, engine, announced):
    first = invoke(rt, "award", "pay", "SG2018-001", "--reference", "财拨2019-7", "--actor", "mishu1")
    assert first.exit_code == 0 and "paid 500000" in first.output
    before = digest(engine)
    again = invoke(rt, "award", "pay", "SG2018-001", "--reference", "财拨2019-8", "--actor", "mishu1")
    assert again.exit_code == 2 and len(again.output.strip().splitlines()) == 1
    assert "award_already_paid" in again.output and "财拨2019-7" in again.output and "--replace" in again.output
    assert invoke(rt, "award", "pay", "SG2018-001", "--reference", "财拨2019-8", "--replace").exit_code == 2
    assert invoke(rt, "award", "pay", "SG2018-001", "--reference", "财拨2019-8", "--reason", "x").exit_code == 2
    assert digest(engine) == before
    fixed = invoke(rt, "award", "pay", "SG2018-001", "--reference", "财拨2019-8", "--replace",
                   "--reason", "凭证号录入错误", "--actor", "mishu1")
    assert fixed.exit_code == 0 and "was 财拨2019-7" in fixed.output, fixed.output
    assert "SG2018-001  500000  paid  财拨2019-8" in invoke(rt, "award", "status").output
    with rt.sessions() as s:
        entry = audit.entries(s, action="award.payment_corrected")[0]
        assert (entry.actor, entry.details["old_reference"], entry.details["reason"]) == (
            "mishu1", "财拨2019-7", "凭证号录入错误")


def test_chat_refuses_a_second_payment_and_corrects_after_confirmation(cb, rt, wecom, announced):
    def say(text):
        assert cb.send(cb.text("mishu1", text)).status == 200
        deliver(rt)
        return texts(wecom, "mishu1")[-1]

    assert "已发放" in say("奖金 SG2018-002 已发放 财拨2019-7")
    told = say("奖金 SG2018-002 已发放 财拨2019-9")
    assert "已登记为已发放" in told and "财拨2019-7" in told and "奖金 SG2018-002 更正" in told
    assert "写明原因" in say("奖金 SG2018-002 更正 财拨2019-9")
    say("奖金 SG2018-002 更正 财拨2019-9 原凭证号录入错误")
    card = last_card(wecom, "mishu1")
    assert card["main_title"]["title"] == "确认更正奖金发放登记"
    with rt.sessions() as s:   # nothing before 确认
        assert publicity.find_record(s, rt.settings, "SG2018-002").payment_reference == "财拨2019-7"
    confirm_last(cb, rt, wecom, "mishu1")
    assert "已更正" in texts(wecom, "mishu1")[-1]
    with rt.sessions() as s:
        assert publicity.find_record(s, rt.settings, "SG2018-002").payment_reference == "财拨2019-9"
        assert audit.entries(s, action="award.payment_corrected")[0].details["old_reference"] == "财拨2019-7"
    assert sum("已拨付" in t for t in texts(wecom, "qiye2")) == 1


def test_the_award_announcement_has_its_publication_log(rt, announced):
    """Issue 23.10: each channel's publication of the award announcement is recorded like the notice's."""
    day = (AFTER + dt.timedelta(hours=1)).date().isoformat()
    done = invoke(rt, "award", "publish", "newspaper", "--on", day, "--link", "https://example.org/a")
    assert done.exit_code == 0, done.output
    log = invoke(rt, "award", "log").output
    assert f"since {day}  https://example.org/a" in log and "portal" in log and "not yet published" in log
    with rt.sessions() as s:
        assert audit.entries(s, action="award.published")[0].details["channel"] == "newspaper"


def test_plaque_and_certificate_are_tracked_per_winner(rt, engine, announced):
    """Issue 23.12: besides the prize, each winner's plaque and certificate (颁发奖牌和证书) is recorded once."""
    assert invoke(rt, "award", "issue", "SG2018-001").exit_code == 2           # neither item named
    day = (AFTER + dt.timedelta(hours=1)).date().isoformat()
    done = invoke(rt, "award", "issue", "SG2018-001", "--plaque", "--actor", "mishu1")
    assert done.exit_code == 0 and f"plaque {day}, certificate not yet" in done.output, done.output
    before = digest(engine)
    again = invoke(rt, "award", "issue", "SG2018-001", "--plaque", "--certificate")
    assert again.exit_code == 1 and "award_already_issued" in again.output and "奖牌已于" in again.output
    assert invoke(rt, "award", "issue", "SG2018-001", "--certificate", "--on", "2019-01-01").exit_code == 2
    assert digest(engine) == before
    assert invoke(rt, "award", "issue", "SG2018-001", "--certificate").exit_code == 0
    assert f"SG2018-001  500000  pending    plaque {day}  certificate not numbered handed over {day}" in invoke(rt, "award", "status").output
    assert "plaque -  certificate not numbered handed over -" in invoke(rt, "award", "status").output     # the other winners
    with rt.sessions() as s:
        assert [e.details["items"] for e in audit.entries(s, action="award.issued")] == [["plaque"], ["certificate"]]


def test_the_award_decision_is_the_city_governments_and_the_report_states_the_budget(rt, announced):
    """Issue 23.12: the 表彰决定 is issued in the city government's name ([award.decision] signer; the secretariat
    only drafts it); the report to the city states who pays (评审经费由市财政统一安排)."""
    from bot.approval import render
    with rt.sessions() as s:
        data = publicity.announcement_data(s, rt.settings)
        package = publicity.package_data(s, rt.settings, now=AFTER)
    text = rt.renderer.text("notices/award/portal.md.j2", **data)
    assert text.startswith("# 韶关市人民政府关于") and text.rstrip().splitlines()[-2:] == [
        "韶关市人民政府", f"{AFTER.year}年{AFTER.month}月{AFTER.day}日"]
    assert "秘书处" not in text
    assert package["award"]["budget"] == "奖励经费和评审经费由市财政统一安排"
    report = render(rt.renderer, package, "md").decode("utf-8")
    assert "由韶关市人民政府表彰奖励，颁发奖牌和证书，给予每家获奖企业一次性奖励 500,000 元" in report
    assert "经费：奖励经费和评审经费由市财政统一安排。" in report
