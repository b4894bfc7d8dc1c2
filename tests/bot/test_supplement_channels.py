"""补正 items arrive through the upload page as well as in chat, and count the same way."""
from bot import sample
from tests.bot.application_helpers import page_upload, pdf, upload_path
from tests.bot.conftest import deliver, texts
from workflows import review
from workflows.apply.models import Application, AppStatus
from workflows.review.models import SupplementRequest


def test_a_supplement_item_uploaded_on_the_page_returns_the_application(rt, wecom, http, clock):
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "review", clock())
        app = s.query(Application).order_by(Application.id).first()
        app_id, applicant = app.id, app.applicant
        review.request_supplement(s, rt.settings, application_id=app_id, actor="mishu", now=clock(),
                                  items={"business_license": "复印件不清晰", "safety_declaration": "未加盖公章"})
    deliver(rt)
    # The applicant chooses the item in chat; the prompt carries an upload-page link for it.
    w = rt.settings.wecom
    from bot.simulator import CallbackClient as Client
    cb = Client(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, http, now=lambda: clock().timestamp())
    cb.send(cb.text(applicant, "申报"))
    cb.send(cb.text(applicant, "1"))
    deliver(rt)
    prompt = texts(wecom, applicant)[-1]
    assert "营业执照" in prompt and "上传页面" in prompt
    resp = page_upload(http, upload_path(prompt), "营业执照.pdf", pdf("license"))
    assert resp.status_code == 200
    with rt.sessions() as s:
        assert s.get(Application, app_id).status == AppStatus.SUPPLEMENT
        [item] = [i for i in s.query(SupplementRequest).one().items if i.status == "supplied"]
        assert item.item_key == "business_license"
    deliver(rt)
    received = next(t for t in texts(wecom, applicant) if "已收到补正材料" in t)
    # the numbers are those of the list shown: 1 was supplied (it may be replaced), 2 is still owed
    assert "1. 营业执照：已补交" in received and "2. 无重大质量安全环保事故声明：**待补交**" in received
    cb.send(cb.text(applicant, "2"))
    deliver(rt)
    resp = page_upload(http, upload_path(texts(wecom, applicant)[-1]), "声明.pdf", pdf("decl"))
    assert resp.status_code == 200
    with rt.sessions() as s:
        assert s.get(Application, app_id).status == AppStatus.RECOMMENDED   # back to the secretariat
