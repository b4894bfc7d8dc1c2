"""The workbench in a real headless Chromium (Playwright): sign-in through the stand-in's page, every page on a
laptop and a phone, a formal-review decision end to end, an export opened with openpyxl.

Skips with a reason when Playwright or /usr/bin/chromium is missing (CI installs both).  With
WORKBENCH_SCREENSHOTS=DIR it also writes the screenshots kept in docs/workbench/.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import socket
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot import sample
from bot.app import create_app
from bot.runtime import build_runtime

CHROMIUM = "/usr/bin/chromium"
SHOTS = os.environ.get("WORKBENCH_SCREENSHOTS")

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt install chromium)"),
]
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 667}
# The charts on each page, each shot on its own (they are below the first screen).
SECTIONS = {"edition": ("#progress",), "scores": ("#totals-chart",), "ranking": ("#rank-material",),
            "vote": ("#round-1",)}
PAGES = ("edition", "applications", "applications/1", "experts", "scores", "ranking", "vote", "publicity", "audit",
         "exports")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(settings, wecom, engine, clock):
    """The app on a real port whose address is its public_url (WeCom sends the browser back there)."""
    from bot.simulator import serve_in_thread
    port = _free_port()
    s = settings.with_overrides(wecom={"api_base_url": wecom.url, "oauth_base_url": wecom.url,
                                       "login_base_url": wecom.url, "request_timeout_seconds": 2},
                                server={"public_url": f"http://127.0.0.1:{port}"})
    rt = build_runtime(s, clock=clock, engine=engine)
    wecom.signin.choices = [("mishu", "秘书处·李敏"), ("zuzhang", "组长·周立平"), ("weiyuan1", "副市长·吴海")]
    handle = serve_in_thread(create_app(rt), port=port)
    yield rt, handle.url
    handle.stop()


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)


def _shot_of(page, selector: str, name: str) -> None:
    """One section of a page (a chart and its table below the first screen)."""
    if SHOTS:
        page.locator(selector).first.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def _letter_with_a_scan(rt, now) -> None:
    """A complaint by letter, registered by the secretariat, with a scan (an application's PDF stands in)."""
    from sqlalchemy import select

    from workflows.apply.models import Document
    from workflows.publicity.models import Complaint, ComplaintEvidence, Publicity
    with rt.sessions.begin() as s:
        chat = s.scalar(select(Complaint).where(Complaint.number.is_not(None)))
        doc = s.scalar(select(Document).where(Document.kind == "pdf").order_by(Document.id))
        letter = Complaint(edition=chat.edition, number="TS2018-002", publicity_id=s.scalar(select(Publicity.id)),
                           application_id=chat.application_id, complainant="offline",
                           content="来信反映：该企业申报的主要产品近两年有抽检不合格记录。", real_name="张三",
                           phone="13700137000", status="submitted", created_at=now, submitted_at=now,
                           channel="letter", received_on="2019-02-26", registered_by="mishu")
        s.add(letter)
        s.flush()
        s.add(ComplaintEvidence(complaint_id=letter.id, sha256=doc.sha256, size=doc.size, kind="pdf",
                                original_name="来信扫描件.pdf", received_at=now))


def _sign_in(page, url: str, who: str) -> None:
    page.goto(url + "/admin/edition")
    assert "企业微信扫码登录" in page.inner_text("main")
    page.click("#login-qr")                       # to the stand-in's web-login page
    assert "扫码登录（模拟）" in page.inner_text("h1")
    page.click(f"button[value='{who}']")          # the tester picks who signs in
    page.wait_for_selector("#me")


def _fits(page, width: int) -> None:
    wide = page.evaluate("""(w) => [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > w)
        .filter(e => !e.closest('.scroll')).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + (e.textContent || '').slice(0, 60))""", width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, (page.url, wide)


def test_every_page_on_a_laptop_and_a_phone(served, clock):
    rt, url = served
    clock.set(dt.datetime(2019, 3, 10, 2, 0, tzinfo=dt.timezone.utc))
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "award", clock())
    _letter_with_a_scan(rt, clock())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        for name, viewport, extra in (("laptop", LAPTOP, {}),
                                      ("phone", PHONE, {"device_scale_factor": 2, "is_mobile": True,
                                                        "has_touch": True})):
            context = browser.new_context(viewport=viewport, accept_downloads=True, **extra)
            page = context.new_page()
            _sign_in(page, url, "mishu")
            assert page.url.endswith("/admin/edition")
            for path in PAGES:
                response = page.goto(f"{url}/admin/{path}")
                assert response.status == 200, path
                _fits(page, viewport["width"])
                assert page.inner_text("h1")
                if path in ("edition", "applications/1", "experts", "scores", "ranking", "vote", "publicity", "audit"):
                    _shot(page, f"{name}-{path.replace('/', '-')}")
                for section in SECTIONS.get(path, ()):
                    assert page.locator(f"{section} svg.chart").count() >= 1, (path, section)
                    _shot_of(page, section, f"{name}-{path}-{section.lstrip('#')}")
                if path == "publicity":   # the scanned letter opens from the page
                    with page.expect_download() as info:
                        page.click("#complaint-TS2018-002 a.download")
                    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")
                    _shot_of(page, "#complaint-TS2018-002", f"{name}-publicity-letter")
            page.goto(f"{url}/admin/scores?app=1")      # one application item by item
            assert page.locator("#items-chart svg.chart").count() == 1
            _fits(page, viewport["width"])
            _shot_of(page, "#items", f"{name}-scores-items-chart")
            page.goto(f"{url}/admin/audit?raw=1")      # the stored codes stay in the raw view
            assert "admin.signin" in page.inner_text("#audit")
            # an export, downloaded by the browser and opened with openpyxl
            page.goto(f"{url}/admin/exports")
            with page.expect_download() as info:
                page.click("#x-scores")
            book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
            assert book.sheetnames == ["材料评审", "现场考评", "汇总"]
            page.click("#logout")
            assert "您已退出登录" in page.inner_text("main")
            context.close()
        browser.close()


def test_a_formal_review_decision_in_the_browser(served, clock, wecom):
    from sqlalchemy import select

    from tests.bot.conftest import deliver, texts
    from workflows.apply.models import Application
    rt, url = served
    clock.set(dt.datetime(2018, 11, 20, 2, 0, tzinfo=dt.timezone.utc))
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "review", clock())
        target = s.scalars(select(Application).where(Application.status == "recommended")
                           .order_by(Application.id)).first()
        app_id, applicant = target.id, target.applicant
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        _sign_in(page, url, "mishu")
        page.goto(f"{url}/admin/edition")            # during 初审 someone owes something: the chart shows who
        assert page.locator("#progress svg.chart-stacked").count() == 1
        _fits(page, PHONE["width"])
        _shot_of(page, "#progress", "phone-edition-owed")
        page.goto(f"{url}/admin/applications?status=recommended")
        page.click(f"a[href='/admin/applications/{app_id}']")
        _shot(page, "phone-review")
        page.check("input[value='certificates']")
        page.fill("input[name='reason_certificates']", "质量管理体系证书已过期")
        page.click("#do-supplement")
        assert "质量管理体系证书已过期" in page.inner_text("#confirm-items")
        _fits(page, PHONE["width"])
        page.click("#confirm-yes")
        page.wait_for_selector("#done")
        assert "需补正" in page.inner_text("#status")
        assert "质量管理体系证书已过期" in page.inner_text("#supplements")
        browser.close()
    deliver(rt)
    assert any("质量管理体系证书已过期" in t for t in texts(wecom, applicant))
    with rt.sessions() as s:
        assert s.get(Application, app_id).status == "supplement"
