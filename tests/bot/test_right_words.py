"""The right words to the right person (issue 21.6): public texts speak to the public, operator output to the
operator, members hear what they can do in the chat; nothing people receive names the README, a module or a
command line meant for the operator."""
from __future__ import annotations

import re
import tomllib

import click
from sqlalchemy import select

from bot.cli import main
from tests.bot.complaint_helpers import complaint_form, start_notice
from tests.bot.conftest import deliver, texts
from tests.workflows.publicity_fixtures import START, make_roster
from workflows.publicity.models import Complaint

from ..conftest import ROOT
from .cli_helpers import invoke
from .test_complaint_page import _post

TEMPLATES = ROOT / "templates"
# Printed on the operator's terminal only: the demo's banner (it names the commands to try).
OPERATOR_ONLY = {"reports/demo_banner.txt.j2"}


def command_lines(group: click.Group = main, path: tuple[str, ...] = ()) -> list[str]:
    """Every command of `python -m bot` of two words or more, as typed ("vote verify", "experts pool import")."""
    found = []
    for name, command in group.commands.items():
        typed = (*path, name)
        if len(typed) > 1:
            found.append(" ".join(typed))
        if isinstance(command, click.Group):
            found += command_lines(command, typed)
    return found


def test_no_template_people_receive_names_the_readme_a_module_or_a_command_line():
    banned = ["README", "python -m bot", "模块", "命令行", *command_lines()]
    assert "vote verify" in banned and "experts pool import" in banned
    found = []
    for path in sorted(TEMPLATES.rglob("*.j2")):
        rel = path.relative_to(TEMPLATES).as_posix()
        if rel not in OPERATOR_ONLY:
            text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)  # comments are not read
            found += [f"{rel}: {word!r}" for word in banned if word in text]
    assert not found, "\n".join(found)


def test_the_example_edition_prints_no_readme_to_the_public():
    """Values of [award] are printed in public texts (the call's join_guide was "README「企业如何进入应用」")."""
    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
    award = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))["award"]
    assert not [s for s in strings(award) if "README" in s]


def test_a_broken_receipt_link_speaks_to_the_public(rt, wecom, clock, http):
    start_notice(rt, clock)
    for url in ("/complaints/received/forged", "/complaints/received/" + "x" * 40):
        page = http.get(url)
        body = page.get_data(as_text=True)
        assert page.status_code == 403 and "回执链接无效" in body and rt.settings.award.secretariat.phone in body
        assert "企业微信" not in body


def test_the_complaint_page_asks_the_public_to_fill_in_the_form(rt, wecom, clock, http, cb):
    start_notice(rt, clock)
    for values, words in (({"name": "", "phone": ""}, "请填写您的真实姓名"), ({"phone": "12345"}, "请填写 11 位手机号"),
                          ({"content": "太短了"}, "后重新提交"), ({"anonymous": "1", "name": "", "phone": ""}, "请填写")):
        body = _post(http, complaint_form(http, **values)).get_data(as_text=True)
        assert words in body and "请回复" not in body and "重新发送" not in body, (values, body[-600:])
    with rt.sessions() as s:
        assert s.scalars(select(Complaint)).all() == []
    # The same refusal in the chat still says what to send.
    for word in ("投诉", "1", "该企业近三年发生过一次重大质量事故，申报材料未如实说明。", "完成", "1"):
        assert cb.send(cb.text("gongzhong1", word)).status == 200
    deliver(rt)
    assert "请回复您的真实姓名" in texts(wecom, "gongzhong1")[-1]


def test_the_operator_and_the_secretariat_hear_what_is_true_for_them(rt, wecom, clock, cb):
    clock.set(START)
    with rt.sessions.begin() as s:
        make_roster(s)
    report = invoke(rt, "training", "report")
    assert report.exit_code == 1 and "training_not_announced" in report.stderr
    assert "尚无报名和签到" in report.stderr and "您会收到报名卡片" not in report.stderr
    # In the chat the secretariat hears the same; whoever would sign up still hears that the card will come.
    assert cb.send(cb.text("mishu1", "培训")).status == 200
    assert cb.send(cb.text("qiye9", "培训")).status == 200
    deliver(rt)
    assert "尚无报名和签到" in texts(wecom, "mishu1")[-1]
    assert "您会收到报名卡片" in texts(wecom, "qiye9")[-1]
    # An --actor not on the roster is named as such, not answered as if he were an applicant.
    nobody = invoke(rt, "award", "pay", "SG2018-001", "--actor", "nobody")
    assert nobody.exit_code == 2 and "“nobody”不是名册中的在册成员" in nobody.stderr
    assert "申报企业" not in nobody.stderr and len(nobody.stderr.strip().splitlines()) == 1
    # A member of the wrong role: the account's role, not "yours".
    expert = invoke(rt, "complaints", "report", "--actor", "zhuanjia1")
    assert expert.exit_code == 1 and "该账号的身份：评审专家" in expert.stderr and "您的身份" not in expert.stderr
