"""Releasing the feedback reports (issue 25.5): each reviewed applicant gets its own report in chat as a Word file,
once, after the city's approval; the secretariat may hold some back for a later run."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from bot import sample
def _cli(rt, *args, code=0, input=None):
    import click
    from click.testing import CliRunner

    from bot.commands import award as award_commands
    main = click.Group("bot")
    award_commands.register(main)
    result = CliRunner().invoke(main, list(args), obj=SimpleNamespace(runtime=rt), catch_exceptions=False,
                                input=input)
    assert result.exit_code == code, result.output
    return result.output


def test_released_once_after_the_approval_with_holds(rt, wecom, clock):
    from sqlalchemy import select

    from tests.bot.conftest import deliver
    from workflows import publicity
    from workflows.publicity.models import FeedbackRelease

    clock.set(dt.datetime(2019, 4, 10, 2, 0, tzinfo=dt.timezone.utc))
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "vote", clock())
    assert "市政府审批结果登记之前不能发送反馈报告" in _cli(rt, "award", "feedback", "--yes", code=1)
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "award", clock())
        apps = [(a.number, a.applicant) for a in publicity.feedback.reviewed(s, rt.settings)]
    assert len(apps) >= 6
    deliver(rt)
    held = apps[0][0]
    out = _cli(rt, "award", "feedback", "--hold", held, input="n\n")
    assert f"{len(apps) - 1} applicants will receive" in out and "nothing was sent" in out
    assert f"released {len(apps) - 1} feedback reports" in _cli(rt, "award", "feedback", "--hold", held, "--yes")
    deliver(rt)
    for _, applicant in apps[1:]:
        got = wecom.messages_to(applicant)
        assert any(m.get("msgtype") == "file" for m in got)
        assert any("反馈报告" in str(m.get("markdown", {}).get("content", "")) for m in got)
    assert not any(m.get("msgtype") == "file" for m in wecom.messages_to(apps[0][1]))
    assert "nothing to do" in _cli(rt, "award", "feedback", "--hold", held, "--yes")
    assert "released 1 feedback reports" in _cli(rt, "award", "feedback", "--yes")      # the held one, later
    with rt.sessions() as s:
        assert len(s.scalars(select(FeedbackRelease)).all()) == len(apps)
    assert "不是参加了材料评审的申报" in _cli(rt, "award", "feedback", "--hold", "SG2018-999", "--yes", code=2)
