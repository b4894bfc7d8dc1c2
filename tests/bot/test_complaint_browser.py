"""The public complaint page in a real headless Chromium, on a phone (375×667) and a desktop (Playwright).

Skips with a reason when Playwright or /usr/bin/chromium is missing (CI installs both). Set
AWARDBOT_SCREENSHOTS=docs/img to refresh the screenshots in the docs.
"""
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.bot.application_helpers import png
from tests.bot.complaint_helpers import PDF, start_notice
from tests.bot.conftest import deliver, texts
from workflows.publicity.models import Complaint, ComplaintEvidence

CHROMIUM = "/usr/bin/chromium"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt install chromium)"),
]

PHONE = {"viewport": {"width": 375, "height": 667}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) Mobile/15E148"}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def _shots(tmp_path: Path) -> Path:
    target = os.environ.get("AWARDBOT_SCREENSHOTS")
    out = Path(target) if target else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    return out


def _fill(page, content: str, files: list[str]) -> None:
    page.select_option("#enterprise", "SG2018-002")
    page.fill("#content", content)
    page.fill("#name", "王小明")
    page.fill("#phone", "139 1234 5678")
    page.set_input_files("#files", files)
    a, b = re.search(r"验证：(\d+) \+ (\d+)", page.inner_text("#complaint-form")).groups()
    page.fill("#answer", str(int(a) + int(b)))


@pytest.mark.parametrize("device,name", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_complaint_page_in_a_browser(rt, wecom, clock, app, tmp_path, device, name):
    from bot.simulator import serve_in_thread
    start_notice(rt, clock)
    evidence = tmp_path / "抽检报告.pdf"
    evidence.write_bytes(PDF)
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(png())
    fake = tmp_path / "伪装.pdf"
    fake.write_bytes(b"<html><script>alert(1)</script></html>")
    shots = _shots(tmp_path)
    server = serve_in_thread(app)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            page = browser.new_page(**device)
            page.goto(server.url + "/complaints")
            assert "韶关第2制造有限公司" in page.inner_text("#winners")
            assert "2019年2月10日24时" in page.inner_text("#notice")
            width = device["viewport"]["width"]
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing overflows sideways
            box = page.locator(".hp").bounding_box()  # the honeypot is out of sight (off-screen, not hidden)
            assert box is None or box["x"] + box["width"] <= 0
            content = "该企业近三年发生过一次重大质量事故，申报材料中未如实说明，请核查。"
            # A disguised file is refused on the page; nothing is lodged and what was typed stays.
            _fill(page, content, [str(evidence), str(fake)])
            page.screenshot(path=str(shots / f"complaint-page-{name}.png"), full_page=True)
            page.click("#submit")
            page.wait_for_selector("#problem")
            assert "文件类型不支持" in page.inner_text("#problem")
            assert page.input_value("#content") == content and page.input_value("#name") == "王小明"
            # Choose the files again and send.
            _fill(page, content, [str(evidence), str(photo)])
            page.click("#submit")
            page.wait_for_selector("#done")
            assert "TS2018-001" in page.inner_text("#number")
            assert "证据材料 2 份" in page.inner_text("#done") and "接下来" in page.inner_text("#next")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(shots / f"complaint-receipt-{name}.png"), full_page=True)
            browser.close()
    finally:
        server.stop()
    deliver(rt)
    card = texts(wecom, "mishu1")[-1]
    assert "收到新的公示投诉 TS2018-001" in card and "来源：公示投诉网页" in card and "证据：2 份" in card
    with rt.sessions() as s:
        assert s.scalar(select(Complaint)).channel == "web"
        assert len(s.scalars(select(ComplaintEvidence)).all()) == 2
