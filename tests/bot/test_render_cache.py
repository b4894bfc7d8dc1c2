"""Rendering a pure notice template once per distinct input; templates that sign links render every time."""
from __future__ import annotations

from bot.render import Renderer


def test_same_help_for_two_members_is_rendered_once_and_addressed_to_each(rt):
    r: Renderer = rt.renderer
    data = {"role": "applicant", "name": "", "commands": ["帮助"], "allowed": []}
    first = r.message("qiye1", "common.help", data)
    second = r.message("qiye2", "common.help", data)
    assert first[0]["touser"] == "qiye1" and second[0]["touser"] == "qiye2"
    assert first[0]["markdown"] == second[0]["markdown"]
    assert len([k for k in r._rendered if k[0] == "messages/common/help.md.j2"]) == 1


def test_different_data_renders_different_text(rt):
    r: Renderer = rt.renderer
    base = {"role": "applicant", "commands": ["帮助"], "allowed": []}
    a = r.message("qiye1", "common.help", {**base, "name": "张三"})[0]["markdown"]["content"]
    b = r.message("qiye1", "common.help", {**base, "name": "李四"})[0]["markdown"]["content"]
    assert "张三" in a and "李四" in b and "李四" not in a


def test_a_template_that_signs_links_is_never_cached(rt):
    r: Renderer = rt.renderer
    assert r._reads("messages/apply/step_material.md.j2") is None  # upload_url(…) depends on the clock
    assert r._reads("messages/common/help.md.j2") is not None


def test_the_help_words_of_a_role_are_worked_out_once_per_process(monkeypatch):
    """POLICY and VIEWS are constants: the verbs a role may use (帮助's sub-commands) are computed once."""
    from bot.handlers import common
    from workflows.core import access

    expected = sorted(v for v in (*access.POLICY, *access.VIEWS) if access.allows(v, "expert"))
    assert common.allowed_verbs("expert") == expected
    calls = []
    real = access.allows
    monkeypatch.setattr(access, "allows", lambda verb, role: calls.append(verb) or real(verb, role))
    again = common.allowed_verbs("expert")
    again.append("changed by a caller")
    assert common.allowed_verbs("expert") == expected and calls == []


def test_a_repeat_mark_is_rendered_once_per_number_and_minute(rt, monkeypatch):
    import datetime as dt

    r: Renderer = rt.renderer
    body = {"touser": "qiye1", "msgtype": "markdown", "markdown": {"content": "您好"}}
    at = dt.datetime(2026, 12, 8, 2, 30, 5, tzinfo=dt.timezone.utc)
    first = r.repeat_mark(body, 2, at)
    rendered = []
    real = r.text
    monkeypatch.setattr(r, "text", lambda name, **data: rendered.append(name) or real(name, **data))
    assert r.repeat_mark(body, 2, at + dt.timedelta(seconds=40)) == first and rendered == []
    later = r.repeat_mark(body, 2, at + dt.timedelta(minutes=1))
    third = r.repeat_mark(body, 3, at)
    assert "10:31" in later["markdown"]["content"] and "第3次" in third["markdown"]["content"] and len(rendered) == 2
