"""The applicant's whole journey through the encrypted webhook and the stand-in, to an endorsed application."""
from sqlalchemy import select

from tests.bot.application_helpers import (
    APPLICANT, RECOMMENDER, REQUIRED, click, fill_facts, last_card, open_apply, page_upload, pdf, png,
    say, send_file, upload_path,
)
from tests.bot.conftest import deliver, texts
from workflows.core import audit
from workflows.apply.models import Application, Document


def test_complete_journey_chat_and_page_to_recommended(cb, rt, wecom, http):
    open_apply(rt)
    first = say(cb, rt, wecom, APPLICANT, "申报")
    assert "截止时间" in first[0] and "2018年11月15日" in first[0] and "还需完成" in first[0] and "步（填写企业信息" in first[0]
    assert "企业名称" in first[1]
    replies = fill_facts(cb, rt, wecom)
    assert "上传材料：申报表" in replies[-1]

    # application_form by chat (file), self_assessment by the upload page, business_license as a chat image
    got = send_file(cb, rt, wecom, APPLICANT, "申请表.pdf", pdf("form"))
    assert any("已收到“申报表”：申请表.pdf" in t for t in got), got
    assert "上传材料：自评报告" in got[-1]
    path = upload_path(got[-1])
    assert http.get(path).status_code == 200
    resp = page_upload(http, path, "自评报告.pdf", pdf("self"))
    assert resp.status_code == 200 and "已收到" in resp.get_data(as_text=True)
    deliver(rt)
    got = texts(wecom, APPLICANT)[-2:]
    assert "已收到“自评报告”：自评报告.pdf" in got[0] and "营业执照" in got[1]
    got = send_file(cb, rt, wecom, APPLICANT, "", png(), kind="image")
    assert any("已收到“营业执照”" in t for t in got)
    for key in REQUIRED[3:]:
        got = send_file(cb, rt, wecom, APPLICANT, f"{key}.pdf", pdf(key))
    assert "必需材料已经齐全" in got[-1]

    progress = say(cb, rt, wecom, APPLICANT, "进度")[0]
    assert progress.count("✓") == 6 and "✗ 其他证明材料" in progress and "申请表.pdf" in progress

    say(cb, rt, wecom, APPLICANT, "提交")
    card = last_card(wecom, APPLICANT)
    assert card["card_type"] == "button_interaction" and card["main_title"]["title"] == "确认提交申报"
    click(cb, wecom, APPLICANT, card, f"apply:confirm:{card['button_list'][0]['key'].rsplit(':', 1)[1]}")
    deliver(rt)
    assert any("申报编号 **SG2018-001**" in t for t in texts(wecom, APPLICANT))
    assert wecom.card_updates()[-1]["template_card"]["replace_text"] == "已提交"

    # the recommending unit of 武江区 gets the card and the six files
    rec_card = last_card(wecom, RECOMMENDER)
    assert rec_card["main_title"]["title"] == "申报待推荐 SG2018-001"
    files = [b for b in wecom.messages_to(RECOMMENDER) if b["msgtype"] == "file"]
    assert len(files) == 6
    assert not [b for b in wecom.messages_to("tuijian-qj")]

    app_id = rec_card["button_list"][0]["key"].rsplit(":", 1)[1]
    updates = len(wecom.card_updates())
    click(cb, wecom, RECOMMENDER, rec_card, f"rec:recommend:{app_id}")
    deliver(rt)
    assert "请直接回复书面推荐意见" in texts(wecom, RECOMMENDER)[-1] and "确认前不会生效" in texts(wecom, RECOMMENDER)[-1]
    assert len(wecom.card_updates()) == updates          # a click alone decides nothing
    say(cb, rt, wecom, RECOMMENDER, "该企业质量管理成效显著，同意推荐。")
    sure = last_card(wecom, RECOMMENDER)
    assert sure["main_title"]["title"] == "确认：推荐 SG2018-001"
    assert "转入秘书处形式审查" in sure["sub_title_text"] and "同意推荐" in sure["quote_area"]["quote_text"]
    with rt.sessions() as s:
        assert s.scalar(select(Application)).status == "submitted"   # not before 确认
    click(cb, wecom, RECOMMENDER, sure, sure["button_list"][0]["key"])
    deliver(rt)
    assert wecom.card_updates()[-2]["template_card"]["replace_text"] == "已决定：推荐"
    assert wecom.card_updates()[-1]["button"]["replace_name"] == "已确认"
    outcome = texts(wecom, APPLICANT)[-1]
    assert "**推荐**" in outcome and "同意推荐" in outcome

    with rt.sessions() as s:
        app = s.scalar(select(Application))
        assert app.status == "recommended" and app.number == "SG2018-001"
        docs = s.scalars(select(Document)).all()
        assert {d.source for d in docs} == {"chat", "page"}
        actions = [e.action for e in audit.entries(s, subject=f"application:{app.id}")]
        assert {"application.submit", "recommend.decide", "document.attach"} <= set(actions)
        assert audit.verify(s).ok
