"""The numbers and lists an applicant sees are true: item numbers are the same in every list, the last upload
says "complete" once, and a half-finished applicant's reminder lists everything still owed."""
from __future__ import annotations

import datetime as dt

from tests.bot.application_helpers import (
    APPLICANT, FACTS, REQUIRED, fill_facts, open_apply, pdf, say, send_file,
)
from tests.bot.conftest import deliver, texts
from workflows.core import reminders
from workflows.edition import PROVIDERS

ITEMS = "1 申报表 · 2 自评报告 · 3 营业执照 · 4 质量/管理体系认证证书 · 5 近三年财务报表 · 6 无重大质量安全环保事故声明 · 7 其他证明材料"


def test_item_numbers_are_the_same_in_prompts_progress_and_errors(cb, rt, wecom):
    open_apply(rt)
    prompt = fill_facts(cb, rt, wecom)[-1]
    assert "上传材料：申报表" in prompt and f"改传其他材料请回复序号：{ITEMS}" in prompt
    progress = say(cb, rt, wecom, APPLICANT, "进度")[0]
    for line in ("1. ✗ 申报表", "3. ✗ 营业执照", "- 推荐意见（由推荐单位填写）：待填写", "4. ✗ 质量/管理体系认证证书",
                 "7. ✗ 其他证明材料（可选）"):
        assert line in progress, progress
    assert "8." not in progress
    refused = say(cb, rt, wecom, APPLICANT, "8")[0]
    assert "（1–7）" in refused and ITEMS in refused
    assert "上传材料：质量/管理体系认证证书" in say(cb, rt, wecom, APPLICANT, "4")[0]


def test_the_last_upload_says_complete_once(cb, rt, wecom):
    open_apply(rt)
    fill_facts(cb, rt, wecom)
    for key in REQUIRED[:-1]:
        send_file(cb, rt, wecom, APPLICANT, f"{key}.pdf", pdf(key))
    got = send_file(cb, rt, wecom, APPLICANT, "声明.pdf", pdf("last"))
    assert sum("齐全" in t for t in got) == 1, got
    assert "已收到“无重大质量安全环保事故声明”" in got[0] and "必需材料已经齐全" in got[-1]


def test_a_page_upload_outside_the_dialog_says_complete_itself(cb, rt, wecom, http):
    from tests.bot.application_helpers import page_upload
    open_apply(rt)
    fill_facts(cb, rt, wecom)
    for key in REQUIRED[:-1]:
        send_file(cb, rt, wecom, APPLICANT, f"{key}.pdf", pdf(key))
    say(cb, rt, wecom, APPLICANT, "取消")
    path = f"/upload/{rt.services['links'].upload_token(1, 'safety_declaration', APPLICANT)}"
    assert page_upload(http, path, "声明.pdf", pdf("page")).status_code == 200
    deliver(rt)
    assert "必需材料已齐全，可以发送 `提交`" in texts(wecom, APPLICANT)[-1]


def test_the_reminder_lists_facts_questions_and_materials_still_owed(cb, rt, wecom, clock):
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    for answer in FACTS[:4]:            # name, code, legal person, unit: industry and contacts are still owed
        say(cb, rt, wecom, APPLICANT, answer)
    clock.set(dt.datetime(2018, 11, 12, 1, 0, tzinfo=dt.timezone.utc))   # 3 days before the deadline, 09:00
    with rt.sessions.begin() as s:
        sent = reminders.run_due(s, rt.settings, now=clock(), providers=PROVIDERS)
    assert [p.obligation.recipient for p in sent] == [APPLICANT]
    deliver(rt)
    reminder = texts(wecom, APPLICANT)[-1]
    assert "填写企业信息：所属行业、联系人、联系电话" in reminder
    assert "回答申报条件：近三年是否未发生重大质量、安全、环保事故？" in reminder
    assert "法人资格" not in reminder     # already answered (and asked as a fact)
    for item in ("申报表", "自评报告", "营业执照", "无重大质量安全环保事故声明"):
        assert f"上传材料：{item}" in reminder
    assert "其他证明材料" not in reminder and "信息和必需材料已经齐全" not in reminder
