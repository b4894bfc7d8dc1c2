"""Formal review and 补正 end to end through the encrypted webhook and the WeCom stand-in."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from bot.handlers import supplement
from tests.bot.conftest import deliver, texts
from workflows.core import audit, stages
from workflows import review
from workflows.apply.models import AppStatus, Application, Document
from workflows.core.models import Person

T_REVIEW = dt.datetime(2018, 11, 16, 2, 0, tzinfo=dt.timezone.utc)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
PRESENT = ("application_form", "self_assessment", "certificates", "financial_statements")


@pytest.fixture
def world(rt, clock):
    """A review stage in progress, one secretariat member and an endorsed application missing two items."""
    clock.set(T_REVIEW)
    router = rt.dispatcher.router
    if "申报" not in router.commands:
        # Stand-in for the applicant's 申报 (issue 3), which calls supplement.resume in supplement status.
        @router.command("申报")
        def _apply(ctx, args):
            app = ctx.session.query(Application).filter_by(applicant=ctx.userid).one()
            supplement.resume(ctx, app)
    with rt.sessions.begin() as s:
        s.add_all([Person(userid="mishu1", name="秘书甲", role="secretariat", updated_at=T_REVIEW),
                   Person(userid="zhuanjia1", name="专家甲", role="expert", updated_at=T_REVIEW)])
        stages.open_stage(s, rt.settings, "review", actor="system", now=T_REVIEW)
        app = Application(edition=rt.settings.award.edition_key, number="SG2018-001", applicant="qiye1",
                          status=AppStatus.RECOMMENDED, enterprise_name="韶关示范制造有限公司",
                          credit_code="91440200MA00000001", region_code="440203", contact_name="张三",
                          contact_phone="13800000000", created_at=T_REVIEW, updated_at=T_REVIEW, submitted_at=T_REVIEW)
        s.add(app)
        s.flush()
        for key in PRESENT:
            s.add(Document(edition=app.edition, application_id=app.id, item_key=key, sha256=hashlib.sha256(key.encode()).hexdigest(),
                           size=100, kind="pdf", original_name=f"{key}.pdf", source="upload", status="received",
                           uploaded_by="qiye1", uploaded_at=T_REVIEW))
        s.flush()
        review.open_review(s, rt.settings, application_id=app.id, actor="system", now=T_REVIEW)
        app_id = app.id
    deliver(rt)
    return app_id


def cards(wecom, userid, card_type=None):
    out = [b["template_card"] for b in wecom.messages_to(userid) if b.get("msgtype") == "template_card"]
    return [c for c in out if card_type is None or c["card_type"] == card_type]


def click(cb, wecom, userid, key, card, selected=None):
    code = wecom.issue_response_code(card["task_id"], userid)
    return cb.send(cb.template_card_event(userid, key, card["task_id"], card["card_type"], code, selected or {}))


def status_of(rt, app_id):
    with rt.sessions() as s:
        return s.get(Application, app_id).status


def send_file(cb, wecom, userid, data, filename, ctype):
    media = wecom.store_media("file", filename, ctype, data)
    return cb.send(cb.file(userid, media.media_id, filename))


def test_missing_items_supplemented_then_accepted(cb, rt, wecom, world):
    app_id = world
    [card] = cards(wecom, "mishu1")
    assert card["main_title"]["title"] == "韶关示范制造有限公司"
    assert "营业执照：未提交" in card["sub_title_text"] and "无重大质量安全环保事故声明：未提交" in card["sub_title_text"]
    assert [b["text"] for b in card["button_list"]] == ["受理", "需补正", "不予受理"]

    # 需补正 → a selection card, pre-checked from the automatic findings.
    click(cb, wecom, "mishu1", f"review:supplement:{app_id}", card)
    deliver(rt)
    [select] = cards(wecom, "mishu1", "vote_interaction")
    checked = [o["id"] for o in select["checkbox"]["option_list"] if o["is_checked"]]
    assert checked == ["business_license", "safety_declaration"]
    click(cb, wecom, "mishu1", f"review:items:{app_id}", select,
          {"items": ["business_license", "safety_declaration"]})
    deliver(rt)
    assert "营业执照" in texts(wecom, "mishu1")[-1] and "1/2" in texts(wecom, "mishu1")[-1]
    cb.send(cb.text("mishu1", "未上传营业执照副本"))
    cb.send(cb.text("mishu1", "声明未加盖公章"))
    deliver(rt)
    sure = cards(wecom, "mishu1")[-1]
    assert sure["main_title"]["title"] == "确认发送补正通知 SG2018-001"
    assert "2018年11月23日 23:59" in sure["sub_title_text"] and "2 项" in sure["sub_title_text"]
    assert sure["quote_area"]["quote_text"] == "1. 营业执照：未上传营业执照副本\n2. 无重大质量安全环保事故声明：声明未加盖公章"
    assert status_of(rt, app_id) == AppStatus.RECOMMENDED and not texts(wecom, "qiye1")   # not before 确认
    click(cb, wecom, "mishu1", sure["button_list"][0]["key"], sure)
    deliver(rt)
    assert "期限" in texts(wecom, "mishu1")[-1]
    assert status_of(rt, app_id) == AppStatus.SUPPLEMENT

    # The applicant is told exactly what is missing, why and by when.
    [notice] = texts(wecom, "qiye1")
    assert "1. **营业执照**：未上传营业执照副本" in notice
    assert "2. **无重大质量安全环保事故声明**：声明未加盖公章" in notice
    assert "2018年11月23日 23:59" in notice
    assert "申报表" not in notice and "自评报告" not in notice

    cb.send(cb.text("qiye1", "申报"))
    deliver(rt)
    assert "还缺 **2** 项" in texts(wecom, "qiye1")[-1]
    cb.send(cb.text("qiye1", "1"))
    send_file(cb, wecom, "qiye1", PDF, "营业执照.pdf", "application/pdf")
    deliver(rt)
    assert "已收到补正材料“**营业执照**”" in texts(wecom, "qiye1")[-1]
    cb.send(cb.text("qiye1", "申报"))
    deliver(rt)
    status = texts(wecom, "qiye1")[-1]
    assert "还缺 **1** 项" in status and "营业执照：已补交" in status
    assert status_of(rt, app_id) == AppStatus.SUPPLEMENT

    send_file(cb, wecom, "qiye1", PNG, "声明.png", "image/png")  # one item left: no need to choose
    deliver(rt)
    assert "已全部收到" in texts(wecom, "qiye1")[-1]
    assert status_of(rt, app_id) == AppStatus.RECOMMENDED

    # Back to the secretariat with a fresh card; the automatic checks now find nothing.
    fresh = cards(wecom, "mishu1", "button_interaction")[-1]
    assert fresh["main_title"]["title"].startswith("【已补正】") and "未发现问题" in fresh["sub_title_text"]
    assert "营业执照（营业执照.pdf→营业执照.pdf）" not in fresh["sub_title_text"]
    assert "补正：营业执照（未交→营业执照.pdf）；无重大质量安全环保事故声明（未交→声明.png）" in fresh["sub_title_text"]
    click(cb, wecom, "mishu1", f"review:accept:{app_id}", fresh)
    deliver(rt)
    sure = cards(wecom, "mishu1")[-1]
    assert sure["main_title"]["title"] == "确认受理 SG2018-001" and "不能撤回" in sure["sub_title_text"]
    assert status_of(rt, app_id) == AppStatus.RECOMMENDED
    click(cb, wecom, "mishu1", sure["button_list"][0]["key"], sure)
    deliver(rt)
    assert status_of(rt, app_id) == AppStatus.ACCEPTED
    assert "受理" in texts(wecom, "qiye1")[-1] and "专家" in texts(wecom, "qiye1")[-1]
    assert [u["button"]["replace_name"] for u in wecom.card_updates()[-2:]] == ["已受理", "已确认"]

    # A second click is refused, audited, and greys the card.
    click(cb, wecom, "mishu1", f"review:accept:{app_id}", fresh)
    deliver(rt)
    assert "已处理过" in texts(wecom, "mishu1")[-1]
    assert wecom.card_updates()[-1]["button"]["replace_name"] == "已处理"
    with rt.sessions() as s:
        assert s.get(Application, app_id).status == AppStatus.ACCEPTED
        assert len(audit.entries(s, action="review.accept")) == 1
        assert len(audit.entries(s, action="review.click_refused")) == 1
        docs = s.query(Document).filter_by(application_id=app_id, source="chat").all()
        assert sorted(d.item_key for d in docs) == ["business_license", "safety_declaration"]
        assert rt.storage_dir.joinpath(docs[0].sha256[:2]).exists()


def test_reject_from_card_sends_the_reason(cb, rt, wecom, world):
    app_id = world
    [card] = cards(wecom, "mishu1")
    click(cb, wecom, "mishu1", f"review:reject:{app_id}", card)
    cb.send(cb.text("mishu1", "长" * 201))  # too long: refused politely, still asked
    deliver(rt)
    assert "太长" in texts(wecom, "mishu1")[-1]
    assert status_of(rt, app_id) == AppStatus.RECOMMENDED
    cb.send(cb.text("mishu1", "营业执照显示注册地不在韶关市"))
    deliver(rt)
    sure = cards(wecom, "mishu1")[-1]
    assert sure["main_title"]["title"] == "确认不予受理 SG2018-001"
    assert sure["quote_area"]["quote_text"] == "营业执照显示注册地不在韶关市" and "不能撤回" in sure["sub_title_text"]
    click(cb, wecom, "mishu1", sure["button_list"][1]["key"], sure)      # 取消: nothing happens
    deliver(rt)
    assert "没有做任何更改" in texts(wecom, "mishu1")[-1] and status_of(rt, app_id) == AppStatus.RECOMMENDED
    click(cb, wecom, "mishu1", sure["button_list"][0]["key"], sure)      # a cancelled card cannot run it
    deliver(rt)
    assert "已经取消" in texts(wecom, "mishu1")[-1] and status_of(rt, app_id) == AppStatus.RECOMMENDED
    click(cb, wecom, "mishu1", f"review:reject:{app_id}", card)
    cb.send(cb.text("mishu1", "营业执照显示注册地不在韶关市"))
    deliver(rt)
    sure = cards(wecom, "mishu1")[-1]
    click(cb, wecom, "mishu1", sure["button_list"][0]["key"], sure)
    deliver(rt)
    assert status_of(rt, app_id) == AppStatus.REJECTED
    assert "理由：营业执照显示注册地不在韶关市" in texts(wecom, "qiye1")[-1]
    assert [u["button"]["replace_name"] for u in wecom.card_updates()[-2:]] == ["不予受理", "已确认"]


def test_clicks_from_others_and_bad_files_change_nothing(cb, rt, wecom, world):
    app_id = world
    [card] = cards(wecom, "mishu1")
    # An expert replaying the secretariat's button key is refused and audited.
    cb.send(cb.template_card_event("zhuanjia1", f"review:accept:{app_id}", card["task_id"], "button_interaction",
                                   "code", {}))
    deliver(rt)
    assert "没有权限" in texts(wecom, "zhuanjia1")[-1]
    assert status_of(rt, app_id) == AppStatus.RECOMMENDED
    # The applicant cannot use the secretariat's word.
    cb.send(cb.text("qiye1", "审查"))
    deliver(rt)
    assert "不适用" in texts(wecom, "qiye1")[-1]

    with rt.sessions.begin() as s:
        review.request_supplement(s, rt.settings, application_id=app_id, actor="mishu1", now=T_REVIEW,
                                  items={"business_license": "缺", "safety_declaration": "缺"})
    deliver(rt)
    # Two items owed: a file before choosing is not guessed.
    send_file(cb, wecom, "qiye1", PDF, "a.pdf", "application/pdf")
    deliver(rt)
    assert "先确定它是哪一项材料" in texts(wecom, "qiye1")[-1]
    cb.send(cb.text("qiye1", "9"))
    deliver(rt)
    assert "1–2" in texts(wecom, "qiye1")[-1]
    # HTML dressed as a PDF is refused by the document store.
    cb.send(cb.text("qiye1", "1"))
    send_file(cb, wecom, "qiye1", b"<!DOCTYPE html><html><script>x</script></html>", "营业执照.pdf",
              "application/pdf")
    deliver(rt)
    assert "未被接收" in texts(wecom, "qiye1")[-1]
    with rt.sessions() as s:
        [owed] = review.open_supplements(s, rt.settings)
        assert len(owed.items) == 2
        assert s.query(Document).filter_by(source="chat").count() == 0


def test_expiry_tells_the_secretariat(cb, rt, wecom, world, clock):
    app_id = world
    with rt.sessions.begin() as s:
        req = review.request_supplement(s, rt.settings, application_id=app_id, actor="mishu1", now=T_REVIEW,
                                        items={"business_license": "缺营业执照"})
        deadline = req.deadline
    clock.set(deadline + dt.timedelta(minutes=1))
    with rt.sessions.begin() as s:
        assert review.expire_due(s, rt.settings, now=clock()) == [app_id]
    deliver(rt)
    assert cards(wecom, "mishu1")[-1]["main_title"]["title"].startswith("【补正逾期】")
    assert "补正期限已于" in texts(wecom, "qiye1")[-1]
    # A late file is no longer accepted.
    send_file(cb, wecom, "qiye1", PDF, "营业执照.pdf", "application/pdf")
    deliver(rt)
    assert "没有需要补正" in texts(wecom, "qiye1")[-1] or "未保存" in texts(wecom, "qiye1")[-1]


def test_secretariat_lists_and_opens_reviews_in_chat(cb, rt, wecom, world):
    cb.send(cb.text("mishu1", "审查"))
    deliver(rt)
    assert "SG2018-001 韶关示范制造有限公司" in texts(wecom, "mishu1")[-1]
    cb.send(cb.text("mishu1", "审查 SG2018-001"))
    deliver(rt)
    assert "营业执照：未提交" in "\n".join(texts(wecom, "mishu1")[-2:])
    assert len(cards(wecom, "mishu1")) == 2
    cb.send(cb.text("mishu1", "审查 真实性 SG2018-001 证书编号查询不到"))
    deliver(rt)
    assert "已记录" in texts(wecom, "mishu1")[-1]
    cb.send(cb.text("mishu1", "审查 SG2018-404"))
    deliver(rt)
    assert "没有找到" in texts(wecom, "mishu1")[-1]


def test_the_formal_review_shows_the_enterprise_type(cb, rt, wecom, world):
    """[seed §二 具有法人资格] the secretariat sees the type the applicant chose, to check it against the licence."""
    cb.send(cb.text("mishu1", "审查 SG2018-001"))
    deliver(rt)
    detail = "\n".join(texts(wecom, "mishu1")[-2:])
    assert "企业类型：⚠ 未选择" in detail and "请按营业执照核实" in detail      # a record from before the type
    with rt.sessions.begin() as s:
        app = s.get(Application, world)
        app.enterprise_type, app.legal_person = "joint_stock", True
    cb.send(cb.text("mishu1", "审查 SG2018-001"))
    deliver(rt)
    detail = "\n".join(texts(wecom, "mishu1")[-2:])
    assert "企业类型：股份有限公司（具有法人资格" in detail and "统一社会信用代码：91440200MA00000001" in detail
    card = cards(wecom, "mishu1")[-1]                                   # the card sent with the detail
    assert {"keyname": "企业类型", "value": "股份有限公司"} in card["horizontal_content_list"]


def cli(rt, *args):
    from click.testing import CliRunner

    from bot.cli import Obj, main
    obj = Obj("unused.toml")
    obj._settings, obj._runtime = rt.settings, rt
    return CliRunner().invoke(main.commands["review"], list(args), obj=obj)


def test_command_line_review(rt, wecom, world):
    app_id = world
    out = cli(rt, "list")
    assert out.exit_code == 0 and "SG2018-001" in out.output and "missing business_license" in out.output
    out = cli(rt, "supplement", "SG2018-001", "--item", "business_license=未提交营业执照")
    assert out.exit_code == 0 and "due 2018-11-23 23:59" in out.output
    assert status_of(rt, app_id) == AppStatus.SUPPLEMENT
    out = cli(rt, "supplement", "SG2018-001", "--item", "certificates=过期")
    assert out.exit_code == 1 and "supplement_open" in out.output
    out = cli(rt, "accept", "SG2018-001")
    assert out.exit_code == 1 and "awaiting_supplement" in out.output
    out = cli(rt, "reject", "SG2018-001", "--reason", "逾期未能提供营业执照")
    assert out.exit_code == 0 and status_of(rt, app_id) == AppStatus.REJECTED
    out = cli(rt, "accept", "SG2018-001")
    assert out.exit_code == 1 and "review_decided" in out.output
    deliver(rt)
    assert "逾期未能提供营业执照" in texts(wecom, "qiye1")[-1]


def test_sample_step_accepts_every_endorsed_application(rt, world):
    from bot import sample
    with rt.sessions.begin() as s:
        # The sample acts only as the roster's own members: enough experts for its assignment (the sample's pool
        # names each by name and organisation, as the province's list does: issue 23.2).
        s.add_all([Person(userid=f"zhuanjia{i}", name=f"专家{i}", role="expert", organization=f"某大学{i}",
                          updated_at=T_REVIEW) for i in range(2, 9)] + [Person(userid="zuzhang", name="组长", role="expert_leader",
                                                   updated_at=T_REVIEW)])
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "material", T_REVIEW)
    with rt.sessions() as s:
        assert s.get(Application, world).status == AppStatus.ACCEPTED
        assert stages.status(s, rt.settings, "material") == "open"
        assert stages.status(s, rt.settings, "review") == "closed"
        assert len(audit.entries(s, action="review.accept")) == 1


def test_a_card_that_could_only_be_refused_is_held_and_explained(cb, rt, wecom, world, clock):
    app_id = world
    clock.set(dt.datetime(2018, 11, 28, 2, 0, tzinfo=dt.timezone.utc))
    with rt.sessions.begin() as s:
        req = review.request_supplement(s, rt.settings, application_id=app_id, actor="mishu1", now=clock(),
                                        items={"business_license": "缺营业执照"})
        assert req.deadline == stages.deadline(s, rt.settings, "review")     # capped at the stage deadline
    deliver(rt)
    before = len(cards(wecom, "mishu1"))
    clock.set(req.deadline + dt.timedelta(minutes=1))
    with rt.sessions.begin() as s:
        assert review.expire_due(s, rt.settings, now=clock()) == [app_id]
    deliver(rt)
    assert len(cards(wecom, "mishu1")) == before          # no 受理/需补正/不予受理 that would all be refused
    held = texts(wecom, "mishu1")[-1]
    assert "补正期限已届满" in held and "已于 2018年11月30日 23:59 截止" in held and "没有发送审查卡片" in held
    # `审查 <编号>` refuses too instead of offering the card
    cb.send(cb.text("mishu1", "审查 SG2018-001"))
    deliver(rt)
    assert "截止" in texts(wecom, "mishu1")[-1] and len(cards(wecom, "mishu1")) == before
