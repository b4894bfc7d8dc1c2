"""Eligibility through the webhook: a 否 is asked again after `申报`, `提交` re-checks every condition,
and only the configured registration kinds (enterprises, credit code 91…) may apply."""
from sqlalchemy import select

from tests.bot.application_helpers import (
    APPLICANT, ELIGIBILITY, FACTS, REQUIRED, click, last_card, open_apply, pdf, say, send_file,
)
from tests.bot.conftest import deliver, texts
from workflows.apply.creditcode import with_check_digits
from workflows.apply.models import AppStatus, Application
from workflows.core import audit

SOLE_TRADER = with_check_digits("92440203MA4UGT01")    # 个体工商户, 武江区
SOCIETY = with_check_digits("51440203MA4UAH02")        # 社会团体
FARM_COOP = with_check_digits("93440203MA4UNT03")      # 农民专业合作社


def _app(rt) -> Application:
    with rt.sessions() as s:
        app = s.scalar(select(Application).where(Application.applicant == APPLICANT))
        s.expunge(app)
        return app


def test_a_type_that_is_not_a_legal_person_is_refused_with_its_reason_and_asked_again(cb, rt, wecom):
    """[seed §二 具有法人资格] the enterprise type is asked (not a self-declared 是): 91… codes also cover
    分公司, 个人独资企业 and 合伙企业, which are not legal persons."""
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    say(cb, rt, wecom, APPLICANT, FACTS[0])
    asked = say(cb, rt, wecom, APPLICANT, FACTS[1])[-1]
    assert "企业类型" in asked and "营业执照" in asked
    assert all(t in asked for t in ("有限责任公司", "股份有限公司", "分公司", "个人独资企业", "合伙企业"))
    assert "序号" in say(cb, rt, wecom, APPLICANT, "是")[-1]      # 是 is not a type: asked again
    assert _app(rt).enterprise_type is None and _app(rt).legal_person is None
    ended = say(cb, rt, wecom, APPLICANT, "4")[-1]               # 分公司或其他分支机构
    assert "暂不符合申报条件" in ended and "分公司或其他分支机构" in ended and "总公司申报" in ended
    assert "发送 `申报`" in ended
    app = _app(rt)
    assert app.status == AppStatus.INELIGIBLE and app.enterprise_type == "branch" and app.legal_person is False

    # 申报 asks the failed question again instead of skipping to 推荐单位.
    again = say(cb, rt, wecom, APPLICANT, "申报")
    assert "企业类型" in again[-1] and "推荐单位" not in again[-1]
    app = _app(rt)
    assert app.status == AppStatus.DRAFT and app.legal_person is None and app.enterprise_type is None
    assert app.enterprise_name == FACTS[0] and app.credit_code == FACTS[1]   # the rest is kept
    # a partnership ends it again (its own reason); a company goes on to the next fact
    ended = say(cb, rt, wecom, APPLICANT, "合伙企业")[-1]
    assert "暂不符合申报条件" in ended and "无限连带责任" in ended
    say(cb, rt, wecom, APPLICANT, "申报")
    assert "推荐单位" in say(cb, rt, wecom, APPLICANT, "2")[-1]
    app = _app(rt)
    assert app.legal_person is True and app.enterprise_type == "joint_stock"
    with rt.sessions() as s:
        restarts = audit.entries(s, action="application.restart")
        assert [e.details["reopened"] for e in restarts] == [["legal_person"], ["legal_person"]]
        sets = [e.details for e in audit.entries(s, action="application.set") if e.details["field"] == "enterprise_type"]
        assert [d["value"] for d in sets] == ["branch", "partnership", "joint_stock"]


def test_a_no_to_a_configured_condition_is_asked_again(cb, rt, wecom):
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    for answer in FACTS:
        say(cb, rt, wecom, APPLICANT, answer)
    assert "暂不符合申报条件" in say(cb, rt, wecom, APPLICANT, "否")[-1]   # no_major_accident
    again = say(cb, rt, wecom, APPLICANT, "申报")[-1]
    assert "事故" in again and "是` 或 `否" in again
    assert "卓越绩效" in say(cb, rt, wecom, APPLICANT, "是")[-1]


def _complete(cb, rt, wecom):
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    for answer in FACTS + ELIGIBILITY:
        say(cb, rt, wecom, APPLICANT, answer)
    for key in REQUIRED:
        send_file(cb, rt, wecom, APPLICANT, f"{key}.pdf", pdf(key))


def test_submit_rechecks_every_condition(cb, rt, wecom):
    _complete(cb, rt, wecom)
    say(cb, rt, wecom, APPLICANT, "提交")
    card = last_card(wecom, APPLICANT)
    # Records written before the fix (or by a changed configuration) may hold a failed answer:
    # neither 提交 nor the confirmation card submits them.
    with rt.sessions.begin() as s:
        app = s.scalar(select(Application))
        app.legal_person = False
        app.eligibility = {**app.eligibility, "legal_person": False, "no_major_accident": False}
    refused = say(cb, rt, wecom, APPLICANT, "提交")[0]
    assert "不能提交" in refused and "法人资格" in refused and "事故" in refused
    click(cb, wecom, APPLICANT, card, card["button_list"][0]["key"])
    deliver(rt)
    assert "不能提交" in texts(wecom, APPLICANT)[-1]
    app = _app(rt)
    assert app.status == AppStatus.DRAFT and app.number is None
    # a credit code outside the city is refused at submission too
    with rt.sessions.begin() as s:
        app = s.scalar(select(Application))
        app.legal_person, app.eligibility = True, {**app.eligibility, "legal_person": True, "no_major_accident": True}
        app.credit_code = with_check_digits("91440101MA5CKL01")
    assert "不在申报范围内" in say(cb, rt, wecom, APPLICANT, "提交")[0]
    assert _app(rt).status == AppStatus.DRAFT
    # a recorded type that is not a legal person is refused whatever the legal_person flag says
    with rt.sessions.begin() as s:
        app = s.scalar(select(Application))
        app.credit_code, app.enterprise_type = FACTS[1], "partnership"
    refused = say(cb, rt, wecom, APPLICANT, "提交")[0]
    assert "不能提交" in refused and "企业类型为“合伙企业”" in refused and "无限连带责任" in refused
    assert _app(rt).status == AppStatus.DRAFT


def test_only_enterprises_may_apply(cb, rt, wecom):
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    say(cb, rt, wecom, APPLICANT, FACTS[0])
    for code, kind in ((SOLE_TRADER, "个体工商户"), (SOCIETY, "社会团体"), (FARM_COOP, "农民专业合作社")):
        reply = say(cb, rt, wecom, APPLICANT, code)[0]
        assert kind in reply and "只接受企业（代码以 91 开头）申报" in reply, reply
        assert _app(rt).credit_code is None
    assert "企业类型" in say(cb, rt, wecom, APPLICANT, FACTS[1])[0]


def test_the_allowed_registration_kinds_are_configuration(cb, rt, wecom, engine, clock, bot_settings):
    from bot.app import create_app
    from bot.runtime import build_runtime
    from bot.simulator import CallbackClient
    settings = bot_settings.model_copy(update={"award": bot_settings.award.model_copy(
        update={"registration_kinds": ["91", "93"]})})
    rt2 = build_runtime(settings, clock=clock, engine=engine)
    w = settings.wecom
    cb2 = CallbackClient(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, create_app(rt2).test_client(),
                         now=lambda: clock().timestamp())
    open_apply(rt2)
    say(cb2, rt2, wecom, APPLICANT, "申报")
    say(cb2, rt2, wecom, APPLICANT, FACTS[0])
    assert "企业类型" in say(cb2, rt2, wecom, APPLICANT, FARM_COOP)[0]
    assert _app(rt2).credit_code == FARM_COOP
