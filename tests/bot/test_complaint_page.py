"""The public complaint page (GET/POST /complaints): no WeCom, the same checks and the same handling."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from sqlalchemy import func, select

from tests.conftest import SECRETARIAT
from tests.bot.complaint_helpers import PDF, complaint_form, start_notice
from tests.bot.conftest import deliver, texts
from tests.workflows.publicity_fixtures import START
from workflows.publicity.models import Complaint, ComplaintAttempt, ComplaintEvidence


def _files(*pairs):
    return list(pairs)


def _post(http, data, files=()):
    """POST the form as a browser would (multipart built in memory: the test client would spool a large
    body to a temporary file it never closes)."""
    boundary = "----awardbot-complaint-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in data.items()]
    for name, content in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return http.post("/complaints", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _count(rt, model) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_complaint_from_the_page_reaches_the_secretariat_with_its_evidence(rt, wecom, clock, http):
    from tests.bot.application_helpers import png
    ids = start_notice(rt, clock)
    page = http.get("/complaints")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["X-Content-Type-Options"] == "nosniff"
    assert "2019年2月10日24时" in html and "韶关第1制造有限公司" in html and "韶关第4制造有限公司" not in html
    assert SECRETARIAT["phone"] in html and "SameSite=Strict" in page.headers["Set-Cookie"]
    data = complaint_form(http)
    resp = _post(http, data, _files(("事故通报.pdf", PDF), ("现场照片.png", png())))
    assert resp.status_code == 303, resp.get_data(as_text=True)
    receipt = http.get(resp.headers["Location"])
    body = receipt.get_data(as_text=True)
    assert receipt.status_code == 200 and "TS2018-001" in body and "韶关第1制造有限公司" in body
    assert "证据材料 2 份" in body and "13912345678" in body and "接下来" in body
    deliver(rt)
    card = texts(wecom, "mishu1")[-1]
    assert "收到新的公示投诉 TS2018-001" in card and "来源：公示投诉网页" in card
    assert "王小明（13912345678）" in card and "证据：2 份" in card and "正在保存" not in card
    with rt.sessions() as s:
        c = s.scalar(select(Complaint))
        assert (c.channel, c.complainant, c.application_id, c.status) == ("web", "public", ids[0], "submitted")
        assert sorted(e.original_name for e in s.scalars(select(ComplaintEvidence))) == ["事故通报.pdf", "现场照片.png"]
        [attempt] = s.scalars(select(ComplaintAttempt)).all()
        assert attempt.outcome == "lodged" and "13912345678" not in attempt.phone_key and attempt.ip_key
    # The same form sent again (a reload, a double tap) lodges nothing new: it shows the same receipt.
    again = _post(http, data)
    assert again.status_code == 303 and http.get(again.headers["Location"]).status_code == 200
    assert _count(rt, Complaint) == 1
    # A tampered receipt link is refused.
    assert http.get(resp.headers["Location"] + "x").status_code == 403


def test_bad_input_is_answered_on_the_page_and_changes_nothing(rt, wecom, clock, http):
    start_notice(rt, clock)
    cases = [
        ({"answer": "99"}, 400, "验证题答案不正确"),
        ({"website": "http://spam.example"}, 400, "提交未成功"),
        ({"content": "太短了"}, 400, "10–2000 字"),
        ({"content": "x" * 2001}, 400, "10–2000 字"),
        ({"name": "", "phone": ""}, 400, "真实姓名"),
        ({"phone": "12345"}, 400, "联系电话格式不正确"),
        ({"enterprise": "SG2018-004"}, 400, "只能对正在公示的拟获奖企业"),
        ({"anonymous": "1", "name": "", "phone": ""}, 400, "须实名"),
        ({"csrf": "forged"}, 403, "表单已失效"),
    ]
    for values, status, message in cases:
        resp = _post(http, complaint_form(http, **values))
        body = resp.get_data(as_text=True)
        assert resp.status_code == status and message in body, (values, resp.status_code, body[-600:])
    # What was typed comes back escaped, never as markup.
    resp = _post(http, complaint_form(http, answer="0", content="<script>alert(1)</script>投诉内容足够长了吧"))
    assert "<script>alert(1)" not in resp.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in resp.get_data(as_text=True)
    assert _count(rt, Complaint) == 0 and not texts(wecom, "mishu1")[1:]


def test_files_get_the_same_checks_as_every_upload(rt, wecom, clock, http):
    start_notice(rt, clock)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/media/image1.png", b"\x00" * (20 << 20))
    for name, content, message in [("证据.pdf", b"<html><script>x</script></html>", "文件类型不支持"),
                                   ("../../etc/x.pdf", b"<html></html>", "文件类型不支持"),
                                   ("说明.docx", bomb.getvalue(), "未能保存")]:
        resp = _post(http, complaint_form(http), _files(("事故通报.pdf", PDF), (name, content)))
        body = resp.get_data(as_text=True)
        assert resp.status_code == 422 and message in body and "重新选择证据文件" in body, body[-500:]
    too_many = _files(*[(f"证据{i}.pdf", PDF.replace(b"1 0", f"{i} 0".encode())) for i in range(6)])
    assert _post(http, complaint_form(http), too_many).status_code == 400
    assert _count(rt, Complaint) == 0 and _count(rt, ComplaintEvidence) == 0
    # The body limit is the files' own: max_files × the evidence size cap, plus the form around them.
    rt.settings = rt.settings.with_overrides(complaint_page={"max_files": 1}, award={
        **rt.settings.award.model_dump(), "rules": {**rt.settings.award.rules.model_dump(),
                                                    "complaint_evidence_max_mb": 1}})
    huge = _post(http, complaint_form(http), _files(("大.pdf", PDF + b"0" * (2 << 20))))
    assert huge.status_code == 413 and "每个不超过 1 MB" in huge.get_data(as_text=True)
    assert _count(rt, Complaint) == 0


def test_limits_per_address_and_per_phone(rt, wecom, clock, http, app):
    start_notice(rt, clock)
    rt.settings = rt.settings.with_overrides(complaint_page={"per_ip_per_hour": 3, "per_phone_per_day": 1})
    assert _post(http, complaint_form(http)).status_code == 303
    second = _post(http, complaint_form(http, content="另一件事：该企业的获奖证书系伪造，请核查。"))
    assert second.status_code == 429 and "这个电话号码今天提交的投诉已达上限" in second.get_data(as_text=True)
    assert _post(http, complaint_form(http, answer="0", phone="13600136000")).status_code == 400
    fourth = _post(http, complaint_form(http, phone="13800138000"))
    assert fourth.status_code == 429 and "提交的次数过多" in fourth.get_data(as_text=True)
    # Another address is not held back by this one; an hour later this one may submit again.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert _post(other, complaint_form(other, phone="13800138000")).status_code == 303
    clock.advance(hours=1, minutes=1)
    assert _post(http, complaint_form(http, phone="13700137000")).status_code == 303
    assert _count(rt, Complaint) == 3


def test_anonymous_only_where_the_edition_allows_it(rt, wecom, clock, http):
    start_notice(rt, clock)
    assert 'name="anonymous"' not in http.get("/complaints").get_data(as_text=True)
    rt.settings = rt.settings.with_overrides(award={**rt.settings.award.model_dump(),
                                                    "rules": {**rt.settings.award.rules.model_dump(),
                                                              "anonymous_complaints": True}})
    assert 'name="anonymous"' in http.get("/complaints").get_data(as_text=True)
    resp = _post(http, complaint_form(http, anonymous="1", name="", phone=""))
    assert resp.status_code == 303
    assert "无法告知核查结论" in http.get(resp.headers["Location"]).get_data(as_text=True)
    deliver(rt)
    assert "投诉人：匿名" in texts(wecom, "mishu1")[-1]


def test_outside_the_window_the_page_says_when_the_notice_runs(rt, wecom, clock, http):
    clock.set(START)
    closed = http.get("/complaints").get_data(as_text=True)
    assert "公示尚未开始" in closed and "2019年2月25日" in closed and 'id="complaint-form"' not in closed
    start_notice(rt, clock)
    data = complaint_form(http)
    clock.set(START + dt.timedelta(days=10))  # 2019-02-11 10:00, the window ended at midnight
    page = http.get("/complaints").get_data(as_text=True)
    assert "已结束" in page and "2019年2月10日24时" in page and "韶关第1制造有限公司" not in page
    resp = _post(http, data)
    assert resp.status_code == 409 and "公示期已结束" in resp.get_data(as_text=True)
    assert _count(rt, Complaint) == 0


def test_the_form_expires(rt, wecom, clock, http):
    start_notice(rt, clock)
    data = complaint_form(http)
    clock.advance(minutes=61)
    resp = _post(http, data)
    assert resp.status_code == 400 and "验证题已失效" in resp.get_data(as_text=True)
    assert re.search(r"验证：\d+ \+ \d+", resp.get_data(as_text=True))  # a fresh challenge to answer


def test_every_notice_text_points_the_public_outside_wecom(rt, wecom, clock):
    from bot.handlers.publicity import publications_dir
    start_notice(rt, clock)
    for channel in ("portal", "newspaper", "tv", "app"):
        body = (publications_dir(rt.settings) / f"shaoguan-2018-publicity-{channel}.md").read_text(encoding="utf-8")
        assert "http://127.0.0.1:8800/complaints" in body, channel
        assert SECRETARIAT["phone"] in body and SECRETARIAT["address"] in body and "512026" in body, channel
        assert "质量奖评审助手" not in body and "发送“投诉”" not in body, channel


def _all_at_once(app, forms_from) -> list[int]:
    """Post one served form per client, all at once (threads released together); their statuses."""
    import threading
    clients = [app.test_client() for _ in forms_from]
    forms = [make(c) for c, make in zip(clients, forms_from)]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def submit(client, data) -> None:
        start.wait()
        statuses.append(_post(client, data).status_code)
    threads = [threading.Thread(target=submit, args=pair) for pair in zip(clients, forms)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return sorted(statuses)


def test_an_address_submitting_many_forms_at_once_lodges_exactly_its_limit(rt, wecom, clock, app):
    """Issue 22.8: the per-address limit is counted and recorded in one transaction."""
    start_notice(rt, clock)
    rt.settings = rt.settings.with_overrides(complaint_page={"per_ip_per_hour": 10, "per_phone_per_day": 100})
    makers = [lambda c, i=i: complaint_form(c, phone=f"1391234{i:04d}") for i in range(16)]
    assert _all_at_once(app, makers) == [303] * 10 + [429] * 6
    assert _count(rt, Complaint) == 10 and _count(rt, ComplaintAttempt) == 16
    with rt.sessions() as s:
        outcomes = sorted(a.outcome for a in s.scalars(select(ComplaintAttempt)))
    assert outcomes == ["lodged"] * 10 + ["refused:rate_ip"] * 6


def test_one_phone_lodging_many_complaints_at_once_lodges_exactly_its_limit(rt, wecom, clock, app):
    start_notice(rt, clock)
    rt.settings = rt.settings.with_overrides(complaint_page={"per_ip_per_hour": 100, "per_phone_per_day": 3})
    assert _all_at_once(app, [complaint_form] * 8) == [303] * 3 + [429] * 5
    assert _count(rt, Complaint) == 3


def _post_counted(http, data, files=()) -> tuple[int, int]:
    """POST the form with a body that counts how much of it was read: (status, bytes read)."""
    boundary = "----awardbot-complaint-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in data.items()]
    for name, content in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    stream = io.BytesIO(body)
    resp = http.post("/complaints", input_stream=stream, content_length=len(body),
                     content_type=f"multipart/form-data; boundary={boundary}")
    return resp.status_code, stream.tell()


def test_an_oversized_body_or_an_address_over_its_limit_is_refused_unread(rt, wecom, clock, http):
    start_notice(rt, clock)
    rt.settings = rt.settings.with_overrides(complaint_page={"max_files": 1, "per_ip_per_hour": 2}, award={
        **rt.settings.award.model_dump(), "rules": {**rt.settings.award.rules.model_dump(),
                                                    "complaint_evidence_max_mb": 1}})
    assert _post_counted(http, complaint_form(http), [("大.pdf", PDF + b"0" * (2 << 20))]) == (413, 0)
    status, read = _post_counted(http, complaint_form(http), [("证据.pdf", PDF)])
    assert status == 303 and read > 0
    # The address is now at its limit (2 an hour): the next form is refused before its body is read.
    assert _post_counted(http, complaint_form(http, phone="13600136000"), [("证据.pdf", PDF)]) == (429, 0)
    assert _count(rt, Complaint) == 1
