"""[seed §三(五) "各县（市、区）政府、市有关部门组织企业申报"] through the webhook: a county recommends the enterprises
registered there (the credit code's division code), a city department with a recorded reason, and an application
waiting at a unit with nobody on the roster is reported to the secretariat every day it waits."""
import datetime as dt

from sqlalchemy import select

from bot.scheduler import remind
from tests.bot.admin_helpers import sign_in
from tests.bot.application_helpers import (
    APPLICANT, ELIGIBILITY, FACTS, REQUIRED, click, last_card, open_apply, pdf, say, send_file,
)
from tests.bot.conftest import deliver, texts
from workflows.apply.creditcode import with_check_digits
from workflows.apply.models import Application
from workflows.core import audit, reminders
from workflows.core.models import Person
from workflows.edition import PROVIDERS

CODE_SX = with_check_digits("91440222MA4UXX01")     # 始兴县: nobody on the demo roster recommends for it
DEPARTMENT = "市经济和信息化局"                      # the 12th unit (10 counties, then the departments)


def _submit(cb, rt, wecom) -> None:
    for key in REQUIRED:
        send_file(cb, rt, wecom, APPLICANT, f"{key}.pdf", pdf(key))
    say(cb, rt, wecom, APPLICANT, "提交")
    card = last_card(wecom, APPLICANT)
    click(cb, wecom, APPLICANT, card, f"apply:confirm:{card['button_list'][0]['key'].rsplit(':', 1)[1]}")
    deliver(rt)


def _app(rt) -> Application:
    with rt.sessions() as s:
        app = s.scalar(select(Application))
        s.expunge(app)
        return app


def test_a_county_is_chosen_by_the_credit_code_and_a_department_gives_its_reason(cb, rt, wecom):
    open_apply(rt)
    with rt.sessions.begin() as s:
        s.add(Person(userid="tuijian-gx", name="经信局·王工", role="recommender", organization=DEPARTMENT,
                     region="市直", updated_at=rt.clock()))
    say(cb, rt, wecom, APPLICANT, "申报")
    for answer in FACTS[:2]:
        say(cb, rt, wecom, APPLICANT, answer)
    asked = say(cb, rt, wecom, APPLICANT, FACTS[2])[-1]
    assert "推荐单位" in asked and "贵单位在武江区登记注册，由武江区推荐（回复 `1`）" in asked

    refused = say(cb, rt, wecom, APPLICANT, "2")[-1]                    # 浈江区
    assert "440203（武江区）" in refused and "应由武江区推荐，不能选择浈江区" in refused and "`1`" in refused
    assert _app(rt).region_code is None

    reason_asked = say(cb, rt, wecom, APPLICANT, "12")[-1]              # 市经济和信息化局
    assert f"由{DEPARTMENT}推荐的理由" in reason_asked and "贵单位登记在武江区" in reason_asked
    assert "4–200 个字" in say(cb, rt, wecom, APPLICANT, "无")[-1]
    assert "所属行业" in say(cb, rt, wecom, APPLICANT, "市属国有企业，由主管部门组织申报")[-1]
    app = _app(rt)
    assert app.department == DEPARTMENT and app.unit_reason == "市属国有企业，由主管部门组织申报"
    for answer in FACTS[4:] + ELIGIBILITY:
        say(cb, rt, wecom, APPLICANT, answer)
    _submit(cb, rt, wecom)

    card = last_card(wecom, "tuijian-gx")                               # the department's recommender
    assert card["main_title"]["title"] == "申报待推荐 SG2018-001"
    assert "由市有关部门推荐，理由：市属国有企业，由主管部门组织申报" in card["sub_title_text"]
    assert not wecom.messages_to("tuijian-wj")                           # the county was not chosen
    with rt.sessions() as s:
        sets = [e.details for e in audit.entries(s, action="application.set")
                if e.details["field"] in ("unit", "unit_reason")]
        assert [d["value"] for d in sets] == [DEPARTMENT, "市属国有企业，由主管部门组织申报"]


def test_an_application_at_a_unit_without_recommender_is_reported_every_day(cb, rt, wecom, http):
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    for answer in [FACTS[0], CODE_SX, FACTS[2], "4"] + FACTS[4:] + ELIGIBILITY:   # 4: 始兴县, its own county
        say(cb, rt, wecom, APPLICANT, answer)
    assert _app(rt).region_code == "440222"
    _submit(cb, rt, wecom)
    told = texts(wecom, "mishu")
    assert any("名册中没有“始兴县”的推荐单位联系人" in t for t in told)       # at once, the day it was submitted

    tz = rt.settings.award.tz
    submitted = _app(rt).submitted_at.astimezone(tz)

    def day(n: int, hour: int = 10) -> dt.datetime:
        return (submitted + dt.timedelta(days=n)).replace(hour=hour, minute=0, second=0).astimezone(dt.timezone.utc)

    rt.clock.set(submitted.replace(hour=23, minute=0).astimezone(dt.timezone.utc))
    assert [p for p in remind(rt, now=rt.clock()) if p.obligation.kind == "remind.unattended"] == []   # same day
    for n in (1, 2):
        rt.clock.set(day(n))
        sent = [p for p in remind(rt, now=rt.clock()) if p.obligation.kind == "remind.unattended"]
        assert [p.obligation.recipient for p in sent] == ["mishu"]
        assert [p for p in remind(rt, now=day(n, 15)) if p.obligation.kind == "remind.unattended"] == []  # once a day
        deliver(rt)
        report = texts(wecom, "mishu")[-1]
        assert "推荐单位无人处理" in report and "始兴县" in report and "SG2018-001" in report
        assert "每天都会提醒一次" in report

    # who owes what: the workbench's edition page lists it under the secretariat
    rt.clock.set(day(2, 16))
    sign_in(http, wecom, "mishu")
    page = http.get("/admin/edition").get_data(as_text=True)
    assert "为无推荐联系人的推荐单位补充名册" in page

    # once the county has a recommender on the roster, the report stops; the unit is reminded instead
    with rt.sessions.begin() as s:
        s.add(Person(userid="tuijian-sx", name="始兴县质量办·林", role="recommender", organization="始兴县人民政府",
                     region="始兴县", updated_at=rt.clock()))
        kinds = {o.kind for o in reminders.owed(s, rt.settings, PROVIDERS)}
    assert "remind.unattended" not in kinds and "remind.recommend" in kinds
    rt.clock.set(day(3))
    assert [p for p in remind(rt, now=rt.clock()) if p.obligation.kind == "remind.unattended"] == []
