"""What people typed is text in a markdown message: an enterprise name cannot add a link, bold, a heading or
a coloured font to the message it appears in (issue 22.3)."""
from __future__ import annotations

import re

from bot.render import md_data, md_text
from tests.bot.application_helpers import open_apply, say
from tests.bot.conftest import deliver
from tests.bot.test_roster import submitted
from workflows.apply.models import Application

EVIL = "X [查看材料](https://evil.example/steal) **加急** <font color=\"warning\">已推荐</font> `code`"
LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def test_an_enterprise_name_adds_no_link_to_the_recommenders_message(cb, rt, wecom):
    open_apply(rt)
    app_id = submitted(rt)
    with rt.sessions.begin() as s:
        s.get(Application, app_id).enterprise_name = EVIL
    deliver(rt)
    [reply] = say(cb, rt, wecom, "tuijian-wj", "推荐")
    message = [m for m in wecom.messages_to("tuijian-wj") if m.get("msgtype") == "markdown"][-1]
    assert message["markdown"]["content"] == reply
    links = LINK.findall(reply)
    assert len(links) == 1 and links[0][0] == "查看材料" and "evil.example" not in links[0][1]
    assert md_text(EVIL) in reply                                   # the name is shown, as typed, in look-alikes
    assert "**加急**" not in reply and "<font" not in reply and "`code`" not in reply


def test_every_string_of_the_data_is_escaped_except_links():
    data = {"name": "# 标题\n> 引用 [a](b)", "items": [{"reason": "**x**"}, 3, None],
            "upload_url": "https://award.example/u?t=a#b", "link": "https://x.example/#p",
            "placeholders": [{"key": "award.call.contacts[0].phone", "value": "[x](y)"}]}
    out = md_data(data)
    assert out["name"] == "＃ 标题\n＞ 引用 ［a］(b)" and out["items"] == [{"reason": "＊＊x＊＊"}, 3, None]
    assert out["upload_url"] == data["upload_url"] and out["link"] == data["link"]
    assert out["placeholders"] == [{"key": "award.call.contacts[0].phone", "value": "［x］(y)"}]
