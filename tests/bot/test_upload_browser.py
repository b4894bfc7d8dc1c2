"""The upload page in a real headless Chromium on a phone-sized viewport (Playwright).

Skips with a reason when Playwright or /usr/bin/chromium is missing (CI installs both).
"""
import os

import pytest
from sqlalchemy import select

from tests.bot.application_helpers import APPLICANT, fill_facts, open_apply, pdf, upload_path
from tests.bot.conftest import deliver, texts
from workflows.apply.models import Document

CHROMIUM = "/usr/bin/chromium"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt install chromium)"),
]


def test_upload_page_on_a_phone(cb, rt, wecom, app, tmp_path):
    from bot.simulator import serve_in_thread
    open_apply(rt)
    path = upload_path(fill_facts(cb, rt, wecom)[-1])
    sample = tmp_path / "申请表.pdf"
    sample.write_bytes(pdf("browser"))
    server = serve_in_thread(app)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 375, "height": 667}, device_scale_factor=2, is_mobile=True,
                                    has_touch=True, user_agent="Mozilla/5.0 (iPhone) wxwork/4.1")
            page.goto(server.url + path)
            assert "上传：申报表" in page.inner_text("h1")
            # nothing overflows sideways on a phone
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            page.set_input_files("#file", str(sample))
            page.click("#submit")
            page.wait_for_selector("#done")
            assert "申请表.pdf" in page.inner_text("#done")
            page.goto(server.url + "/upload/" + path.rsplit("/", 1)[1][:-2] + "xx")
            assert "无效" in page.inner_text("#problem")
            browser.close()
    finally:
        server.stop()
    deliver(rt)
    assert any("已收到“申报表”：申请表.pdf" in t for t in texts(wecom, APPLICANT))
    with rt.sessions() as s:
        assert s.scalar(select(Document)).source == "page"
