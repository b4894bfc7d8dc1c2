"""The simulator page in a real headless Chromium (Playwright), with the bot behind the encrypted webhook:
an application from 申报 to 确认提交, a recommender's card and a workbench decision arriving on the phone, a
committee vote with its checkboxes — all done in the page — and every card type drawn at phone size.

Skips with a reason when Playwright or /usr/bin/chromium is missing (CI installs both). Nothing sleeps: each
step waits for the page to acknowledge the action (`data-acked`) and to show all the stand-in received
(`data-seq`). With SIMULATOR_SCREENSHOTS=DIR it also writes the screenshots kept in docs/simulator/.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.commands import demo
from bot.simulator import serve_in_thread
from tests.bot.application_helpers import (
    APPLICANT, ELIGIBILITY, FACTS, RECOMMENDER, REQUIRED, click, fill_facts, last_card, open_apply, pdf, say,
    send_file,
)
from tests.bot.conftest import deliver
from workflows import committee, voting
from workflows.apply.models import Application, Document
from workflows.core import people, stages
from workflows.voting.models import Participation

CHROMIUM = "/usr/bin/chromium"
SHOTS = os.environ.get("SIMULATOR_SCREENSHOTS")

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt install chromium)"),
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
FILES = {"application_form": "申请表.pdf", "self_assessment": "自评报告.pdf", "business_license": "营业执照.pdf",
         "certificates": "体系证书.pdf", "financial_statements": "财务报表.pdf", "safety_declaration": "安全声明.pdf"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port() -> int:
    return _free_port()


@pytest.fixture
def bot_settings(settings, wecom, port):
    """The bot on a real port (the phones open its pages; the stand-in posts callbacks there)."""
    return settings.with_overrides(wecom={"api_base_url": wecom.url, "oauth_base_url": wecom.url,
                                          "login_base_url": wecom.url, "request_timeout_seconds": 5},
                                   server={"port": port, "public_url": f"http://127.0.0.1:{port}"})


@pytest.fixture
def bot(app, rt, port):
    """Serve the bot. After each request the callbacks are routed and the outbox delivered, as the routing worker
    and the sender threads do under `serve`, but before the answer: the page's action is acknowledged only once
    everything it caused has reached the stand-in. Each callback is a member's step ten seconds later (WeCom
    delivers at most 30 messages a minute to one member)."""
    inner = app.wsgi_app

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") == "/wecom/callback" and environ.get("REQUEST_METHOD") == "POST":
            rt.clock.advance(seconds=10)
        try:
            return inner(environ, start_response)
        finally:
            deliver(rt)

    app.wsgi_app = wsgi
    handle = serve_in_thread(app, port=port)
    yield handle.url
    handle.stop()


def stage_standin(rt, wecom, until: str) -> str:
    """The stand-in set up as the demo does (directory, menu, workbench sign-in, the bot's callback URL)."""
    with rt.sessions() as s:
        who = demo.members(s, rt.settings)
    demo.stage_standin(wecom, rt.settings, rt.renderer, who, until)
    return wecom.url


@pytest.fixture
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


class Phone:
    """One member's phone in the simulator page, and the waits that replace sleeping."""

    def __init__(self, page, wecom, userid: str):
        self.page, self.wecom, self.userid = page, wecom, userid
        self.pane = page.locator(f'.phone[data-user="{userid}"]')
        self._sel = f'.phone[data-user="{userid}"]'

    def acked(self) -> int:
        return int(self.pane.get_attribute("data-acked") or 0)

    def settle(self, before: int) -> None:
        """Wait until the page had the answer to the action, then shows everything the stand-in holds."""
        self.page.wait_for_function("([s, n]) => Number(document.querySelector(s)?.dataset.acked || 0) > n",
                                    arg=[self._sel, before])
        target = max((e["seq"] for e in self.wecom.inbox(self.userid)), default=0)
        self.page.wait_for_function("([s, n]) => Number(document.querySelector(s)?.dataset.seq || 0) >= n",
                                    arg=[self._sel, target])

    def opened(self) -> "Phone":
        """The pane is there and its 'enter the app' event was answered."""
        self.pane.wait_for()
        self.settle(0)
        return self

    def say(self, text: str) -> str:
        """Type and send; returns what the app answered (the text of its new messages)."""
        before, shown = self.acked(), self.pane.locator(".msg.app").count()
        self.pane.locator(".input").fill(text)
        self.pane.locator(".input").press("Enter")
        self.settle(before)
        return "\n".join(self.pane.locator(".msg.app").all_inner_texts()[shown:])

    def menu(self, key: str) -> None:
        before = self.acked()
        self.pane.locator(f'.menu button[data-key="{key}"]').click()
        self.settle(before)

    def press(self, card, key_prefix: str):
        """Press the button (or submit) whose key starts with `key_prefix` on a card; returns the card as it is
        drawn after the bot's answer (the same task, perhaps updated)."""
        task, before = card.get_attribute("data-task"), self.acked()
        card.locator(f'button[data-key^="{key_prefix}"]').click()
        self.settle(before)
        return self.pane.locator(f'.card[data-task="{task}"]')

    def send_file(self, name: str, data: bytes, mime: str = "application/pdf") -> None:
        before = self.acked()
        self.pane.locator(".file").set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])
        self.settle(before)

    def card(self, title: str):
        """The newest card with this title."""
        return self.pane.locator(".card", has=self.page.locator(".main-title", has_text=title)).last

    def shot(self, name: str, focus=None) -> None:
        if not SHOTS:
            return
        if focus is not None:
            focus.scroll_into_view_if_needed()
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def open_phone(browser, sim: str, wecom, userid: str) -> Phone:
    page = browser.new_page(**PHONE)
    page.on("dialog", lambda d: pytest.fail(f"a dialog opened: {d.message}"))   # nothing the bot sent may run
    page.goto(f"{sim}/?u={userid}")
    return Phone(page, wecom, userid).opened()


def test_an_enterprise_applies_from_申报_to_确认提交_in_the_page(bot, rt, wecom, browser):
    open_apply(rt)
    sim = stage_standin(rt, wecom, "apply")
    phone = open_phone(browser, sim, wecom, APPLICANT)
    assert "发送 申报 开始申报" in phone.pane.locator(".msg.app").first.inner_text()    # the welcome, as markdown
    phone.menu("apply")                                                                 # the app's menu: 申报
    first = phone.pane.locator(".msg.app").last
    assert "企业名称" in first.inner_text() and first.locator("strong").count()          # **bold** drawn bold
    phone.shot("phone-apply-start")
    for answer in FACTS + ELIGIBILITY:
        phone.say(answer)
    assert "上传材料：申报表" in phone.pane.locator(".msg.app").last.inner_text()
    for key in REQUIRED:
        phone.send_file(FILES[key], pdf(key))
    assert phone.pane.locator(".msg.me .file-bubble").count() == 6
    assert "必需材料已经齐全" in phone.pane.locator(".msg.app").last.inner_text()
    phone.shot("phone-files", phone.pane.locator(".msg.me .file-bubble").last)

    phone.say("提交")
    confirm = phone.card("确认提交申报")
    assert confirm.get_attribute("data-type") == "button_interaction"
    assert confirm.locator("button", has_text="确认提交").is_enabled()
    phone.shot("phone-button-card", confirm)
    done = phone.press(confirm, "apply:confirm:")
    assert done.locator(".main-title").inner_text() == "申报已提交"
    assert done.locator(".btn.grey").inner_text() == "已提交" and not done.locator("button.style-1").count()
    assert "SG2018-001" in phone.pane.locator(".msg.app").last.inner_text()
    phone.shot("phone-button-card-done", done)
    with rt.sessions() as s:
        app = s.scalar(select(Application))
        assert app.status == "submitted" and app.number == "SG2018-001"
        names = s.scalars(select(Document.original_name).where(Document.application_id == app.id)).all()
        assert sorted(names) == sorted(FILES.values())
    assert wecom.card_updates()[-1]["template_card"]["replace_text"] == "已提交"


def submitted(cb, rt, wecom) -> None:
    """An application submitted through the encrypted webhook (the terminal chat's path): the unit's card is out."""
    open_apply(rt)
    fill_facts(cb, rt, wecom)
    for key in REQUIRED:
        send_file(cb, rt, wecom, APPLICANT, FILES[key], pdf(key))
    say(cb, rt, wecom, APPLICANT, "提交")
    card = last_card(wecom, APPLICANT)
    click(cb, wecom, APPLICANT, card, card["button_list"][0]["key"])
    deliver(rt)


def test_a_recommender_decides_on_the_phone_and_the_workbench_decision_arrives_there(bot, cb, rt, wecom, browser):
    submitted(cb, rt, wecom)
    sim = stage_standin(rt, wecom, "apply")
    phone = open_phone(browser, sim, wecom, RECOMMENDER)
    review = phone.card("申报待推荐 SG2018-001")
    assert review.get_attribute("data-type") == "button_interaction"
    assert phone.pane.locator(".msg.app .file-bubble").count() == 6                     # the six files, downloadable
    with phone.page.expect_download() as got:
        phone.pane.locator(".msg.app .file-bubble", has_text="申请表.pdf").click()
    assert Path(got.value.path()).read_bytes() == pdf("application_form")
    phone.shot("phone-recommend-card", review)
    review = phone.press(review, "rec:recommend:")
    assert not review.locator(".btn.grey").count()                # a click alone decides nothing
    assert "请直接回复书面推荐意见" in phone.pane.locator(".msg.app").last.inner_text()
    phone.say("该企业质量管理成效显著，同意推荐。")
    sure = phone.press(phone.card("确认：推荐 SG2018-001"), "confirm:yes:")
    assert sure.locator(".btn.grey").inner_text() == "已确认"
    assert review.locator(".btn.grey").inner_text() == "已决定：推荐"
    phone.shot("phone-recommend-done", review)
    with rt.sessions() as s:
        assert s.scalar(select(Application)).status == "recommended"

    # The secretariat opens the workbench from its phone (signed in by the stand-in, nothing asked) and accepts;
    # the applicant's phone shows the decision.
    with rt.sessions.begin() as s:
        stages.open_stage(s, rt.settings, "review", actor="mishu", now=rt.clock())
    applicant = open_phone(browser, sim, wecom, APPLICANT)
    mishu = open_phone(browser, sim, wecom, "mishu")
    with mishu.page.expect_popup() as popup:
        mishu.pane.locator(".workbench").click()
    bench = popup.value
    bench.wait_for_selector("#me")
    assert "李敏" in bench.inner_text("#me")
    with rt.sessions() as s:
        app_id = s.scalar(select(Application.id))
    bench.goto(f"{bot}/admin/applications/{app_id}")
    bench.click("#do-accept")
    before = applicant.acked()
    bench.click("#confirm-yes")
    bench.wait_for_selector("#done")
    target = max(e["seq"] for e in wecom.inbox(APPLICANT))
    applicant.page.wait_for_function("([s, n]) => Number(document.querySelector(s)?.dataset.seq || 0) >= n",
                                     arg=[applicant._sel, target])
    assert applicant.acked() == before
    assert "受理" in applicant.pane.locator(".msg.app").last.inner_text()
    if SHOTS:   # the whole page on a laptop: the list of members and three phones side by side
        page = browser.new_page(viewport={"width": 1440, "height": 820})
        page.goto(f"{sim}/#{APPLICANT},{RECOMMENDER},mishu")
        for who in (APPLICANT, RECOMMENDER, "mishu"):
            Phone(page, wecom, who).opened()
        page.screenshot(path=str(Path(SHOTS) / "desktop-side-by-side.png"))


def test_a_committee_member_ticks_and_submits_a_vote_card(bot, rt, wecom, browser, clock):
    from tests.workflows.test_voting import VOTE_TIME, seed
    clock.set(VOTE_TIME)
    with rt.sessions.begin() as s:
        cands = seed(s, rt.settings, clock())
        if committee.latest_meeting(s, rt.settings) is None:
            committee.record_meeting(s, rt.settings, actor="mishu", now=clock(),
                                     held_on=clock().astimezone(rt.settings.award.tz).date(),
                                     attendees=[p.name for p in people.with_role(s, "committee", "committee_chair")],
                                     decisions="审议通过评审委员会议事规则。")
        voting.open_ballot(s, rt.settings, actor="mishu", now=clock(), candidates=cands,
                           closes_at=clock() + dt.timedelta(days=2))
    deliver(rt)
    sim = stage_standin(rt, wecom, "vote")
    phone = open_phone(browser, sim, wecom, "weiyuan7")
    ballot = phone.card("评审委员会投票")
    assert ballot.get_attribute("data-type") == "vote_interaction"
    options = ballot.locator(".option")
    assert options.all_inner_texts() == ["企业甲", "企业乙", "企业丙", "企业丁", "企业戊"]
    submit = ballot.locator("button.submit")
    assert submit.is_disabled()                                   # nothing ticked: WeCom's submit stays grey
    for i in (0, 3):
        options.nth(i).click()
    assert options.nth(0).get_attribute("class").split().count("checked") == 1
    phone.shot("phone-vote-card", ballot)
    void = phone.press(ballot, "vote:submit:")    # two of three: explained, this card voided, a fresh ballot sent
    assert void.locator(".btn.grey").count() == 1 and not void.locator("button.submit").count()
    assert "3" in phone.pane.locator(".msg.app .md").last.inner_text()
    ballot = phone.card("评审委员会投票")
    assert ballot.get_attribute("data-task") != void.get_attribute("data-task")
    for i in (0, 3, 4):
        ballot.locator(".option").nth(i).click()
    voted = phone.press(ballot, "vote:submit:")
    assert voted.locator(".main-title").inner_text() == "已投票"
    assert voted.locator(".btn.grey").inner_text() == "已投票"
    assert [o.inner_text() for o in voted.locator(".option.checked").all()] == ["企业甲", "企业丁", "企业戊"]
    assert voted.locator(".checkbox.disabled").count() == 1
    phone.shot("phone-vote-done", voted)
    with rt.sessions() as s:
        assert s.scalar(select(Participation.voted_at).where(Participation.member == "weiyuan7")) is not None


GALLERY = [
    {"msgtype": "text", "text": {"content": "文本消息 <a href=\"https://work.weixin.qq.com\">链接</a> "
                                            "<a href=\"javascript:alert(1)\">不是链接</a> <script>alert(2)</script>"}},
    {"msgtype": "markdown", "markdown": {"content": "# 标题\n**加粗** [链接](https://example.com) `代码`\n"
                                                    "> 引用 <font color=\"info\">绿色</font> <font color=\"comment\">灰色</font>"
                                                    " <font color=\"warning\">橙红</font>\n<img src=x onerror=alert(3)>"}},
    {"msgtype": "template_card", "template_card": {
        "card_type": "text_notice", "task_id": "g-notice", "source": {"desc": "质量奖评审", "desc_color": 0},
        "main_title": {"title": "材料评审已开始", "desc": "请在截止前完成评分"},
        "emphasis_content": {"title": "5", "desc": "份待评申报"},
        "quote_area": {"title": "提示", "quote_text": "评分表可以分几次填写，提交前均可修改。"},
        "sub_title_text": "评分截止：2019年1月10日 17:00",
        "horizontal_content_list": [{"keyname": "评审组", "value": "第一组"}, {"keyname": "组长", "value": "周立平"}],
        "jump_list": [{"type": 1, "title": "查看评分指引", "url": "https://example.com/guide"}],
        "card_action": {"type": 1, "url": "https://example.com/scores"}}},
    {"msgtype": "template_card", "template_card": {
        "card_type": "multiple_interaction", "task_id": "g-multi", "source": {"desc": "质量奖评审"},
        "main_title": {"title": "现场评审时间", "desc": "请选择可以参加的时间"},
        "select_list": [{"question_key": "day", "title": "日期", "option_list": [
            {"id": "d1", "text": "1月15日"}, {"id": "d2", "text": "1月16日"}]},
            {"question_key": "half", "title": "时段", "selected_id": "pm", "option_list": [
                {"id": "am", "text": "上午"}, {"id": "pm", "text": "下午"}]}],
        "submit_button": {"text": "提交", "key": "visit:pick:1"}}},
    {"msgtype": "textcard", "textcard": {
        "title": "申报待推荐 SG2018-002", "url": "https://example.com/card/abc", "btntxt": "去处理",
        "description": "<div class=\"gray\">2018年11月2日</div><div class=\"normal\">韶关市武江精工制造有限公司</div>"
                       "<div class=\"highlight\">请点击打开页面完成操作</div><img src=x onerror=alert(4)>"}},
]


def test_every_card_type_is_drawn_and_nothing_the_bot_relays_runs(bot, rt, wecom, browser):
    open_apply(rt)
    sim = stage_standin(rt, wecom, "apply")
    for body in GALLERY:     # kinds the bot does not send today, straight into the stand-in
        assert wecom.send(dict(body, touser="zhuanjia1", agentid=wecom.agent_id))["errcode"] == 0
    phone = open_phone(browser, sim, wecom, "zhuanjia1")
    text, md = phone.pane.locator(".msg.app .text").first, phone.pane.locator(".msg.app .md").first
    assert text.locator("a").count() == 1 and "<script>alert(2)</script>" in text.inner_text()
    assert "不是链接" in text.inner_text()
    assert md.locator("strong").inner_text() == "加粗" and md.locator("code").inner_text() == "代码"
    assert md.locator(".font-info").inner_text() == "绿色" and md.locator(".font-warning").inner_text() == "橙红"
    assert md.locator("blockquote").count() == 1 and "<img src=x onerror=alert(3)>" in md.inner_text()
    assert phone.page.locator(".log img, .log script").count() == 0    # what was typed stays text
    notice = phone.card("材料评审已开始")
    assert notice.locator(".emph-title").inner_text() == "5" and notice.locator(".hrow").count() == 2
    assert notice.locator("button").count() == 0
    multi = phone.card("现场评审时间")
    assert multi.locator("select").count() == 2 and multi.locator("select").nth(1).input_value() == "pm"
    card = phone.card("申报待推荐 SG2018-002")
    assert card.locator(".tc-highlight").inner_text() == "请点击打开页面完成操作"
    assert card.locator("a.link").get_attribute("href").startswith("/_sim/open?userid=zhuanjia1&url=https")
    phone.shot("phone-text-notice", notice)
    phone.shot("phone-multiple-textcard", card)
