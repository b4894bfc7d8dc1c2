"""The whole path once: encrypted callback → webhook → router → outbox → sender → WeCom stand-in."""
from tests.bot.conftest import deliver, texts


def test_help_reaches_member_through_the_real_path(cb, rt, wecom):
    r = cb.send(cb.text("qiye1", "帮助"))
    assert (r.status, r.body) == (200, "")
    assert wecom.calls_to("message/send") == []  # nothing sent inside the request
    assert deliver(rt) == 1
    [reply] = texts(wecom, "qiye1")
    assert "可用指令" in reply and "申报企业联系人" in reply


def test_unknown_text_gets_a_hint(cb, rt, wecom):
    cb.send(cb.text("qiye1", "你好"))
    deliver(rt)
    [reply] = texts(wecom, "qiye1")
    assert "没有理解" in reply and "帮助" in reply
