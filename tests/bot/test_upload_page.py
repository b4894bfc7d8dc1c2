"""The upload page and the read-only material view: tokens, checks, authorisation, headers."""
import re

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from tests.bot.application_helpers import (
    APPLICANT, HTML, fill_facts, open_apply, page_upload, pdf, say, upload_path,
)
from tests.bot.conftest import deliver, texts
from workflows.apply.models import Document


def _to_upload(cb, rt, wecom):
    open_apply(rt)
    replies = fill_facts(cb, rt, wecom)
    return upload_path(replies[-1])


def test_page_is_mobile_friendly_and_confirms_in_chat(cb, rt, wecom, http):
    path = _to_upload(cb, rt, wecom)
    html = http.get(path).get_data(as_text=True)
    assert 'name="viewport"' in html and "上传：申报表" in html and 'accept=".pdf,.docx,.jpg' in html
    resp = page_upload(http, path, "申请表.pdf", pdf("p"))
    assert resp.status_code == 200 and "申请表.pdf" in resp.get_data(as_text=True)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    deliver(rt)
    assert any("已收到“申报表”：申请表.pdf" in t for t in texts(wecom, APPLICANT))
    with rt.sessions() as s:
        doc = s.scalar(select(Document))
        assert doc.source == "page" and doc.original_name == "申请表.pdf"
    assert (rt.storage_dir / doc.sha256[:2] / doc.sha256[2:4] / doc.sha256).is_file()


def test_html_renamed_pdf_is_refused_on_the_page(cb, rt, wecom, http):
    path = _to_upload(cb, rt, wecom)
    resp = page_upload(http, path, "申请表.pdf", HTML)
    assert resp.status_code == 422 and "无法识别文件类型" in resp.get_data(as_text=True)
    with rt.sessions() as s:
        assert s.scalar(select(Document)) is None


def test_oversized_upload_is_refused(cb, rt, wecom, http):
    path = _to_upload(cb, rt, wecom)
    limit = rt.settings.award.material("application_form").max_bytes
    big = b"%PDF-1.4\n" + b"0" * (limit + 100 * 1024) + b"\n%%EOF\n"
    resp = page_upload(http, path, "big.pdf", big)
    assert resp.status_code == 413 and "超过大小上限" in resp.get_data(as_text=True)
    just_over = b"%PDF-1.4\n" + b"0" * (limit - 10) + b"\n%%EOF\n"
    resp = page_upload(http, path, "big.pdf", just_over)
    assert resp.status_code == 422 and "超过大小上限" in resp.get_data(as_text=True)
    with rt.sessions() as s:
        assert s.scalar(select(Document)) is None


def test_expired_token_gets_410(cb, rt, wecom, http, clock):
    path = _to_upload(cb, rt, wecom)
    clock.advance(minutes=rt.settings.server.upload_token_minutes + 1)
    resp = http.get(path)
    assert resp.status_code == 410 and "已经过期" in resp.get_data(as_text=True)
    assert page_upload(http, path, "a.pdf", pdf("x")).status_code == 410


def test_tampered_or_foreign_token_gets_403(cb, rt, wecom, http):
    path = upload_path_ = _to_upload(cb, rt, wecom)
    token = path.rsplit("/", 1)[1]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    resp = http.get(f"/upload/{flipped}")
    assert resp.status_code == 403 and "无效" in resp.get_data(as_text=True)
    forged = URLSafeTimedSerializer("another-secret-key-123", salt="awardbot.upload").dumps(
        {"a": 1, "i": "application_form", "u": APPLICANT})
    assert http.get(f"/upload/{forged}").status_code == 403
    other_user = rt.services["links"].upload_token(1, "application_form", "someone-else")
    assert http.get(f"/upload/{other_user}").status_code == 403
    assert upload_path_ and page_upload(http, f"/upload/{flipped}", "a.pdf", pdf("x")).status_code == 403


def test_material_view_needs_authorisation_and_serves_attachments(cb, rt, wecom, http):
    path = _to_upload(cb, rt, wecom)
    page_upload(http, path, "申请表.pdf", pdf("v"))
    links = rt.services["links"]
    with rt.sessions() as s:
        doc = s.scalar(select(Document))
    own = links.view_token(doc.application_id, APPLICANT)
    listing = http.get(f"/materials/{own}")
    assert listing.status_code == 200 and "申请表.pdf" in listing.get_data(as_text=True)
    resp = http.get(f"/materials/{own}/{doc.id}")
    assert resp.status_code == 200 and resp.data == pdf("v")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert "filename*=UTF-8''%E7%94%B3" in resp.headers["Content-Disposition"]
    # a recommender of another district and a stranger are refused
    for who in ("tuijian-qj", "qiye2"):
        resp = http.get(f"/materials/{links.view_token(doc.application_id, who)}/{doc.id}")
        assert resp.status_code == 403
    assert http.get(f"/materials/{links.view_token(doc.application_id, 'tuijian-wj')}/{doc.id}").status_code == 200
    assert http.get(f"/materials/{own}/{doc.id + 99}").status_code == 404


def test_page_after_deadline_refuses_politely(cb, rt, wecom, http, clock):
    path = _to_upload(cb, rt, wecom)
    clock.advance(minutes=1)
    from workflows.core import stages
    with rt.sessions.begin() as s:
        stages.close_stage(s, rt.settings, "apply", actor="system", now=clock())
    resp = http.get(path)
    assert resp.status_code == 409 and "截止" in resp.get_data(as_text=True)
    assert re.search(r"<html", resp.get_data(as_text=True))
    assert say(cb, rt, wecom, APPLICANT, "进度")
