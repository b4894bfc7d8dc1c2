"""`deadline extend` (CLI) and the sample edition's review step."""
import datetime as dt

import click
from click.testing import CliRunner
from sqlalchemy import select

from tests.bot.application_helpers import APPLICANT, open_apply, say
from workflows.core import audit, stages
from workflows.apply.models import Application

from bot.commands import application as cmd


class _Obj:
    def __init__(self, rt):
        self.runtime = rt


def _cli(rt):
    @click.group()
    @click.pass_context
    def main(ctx):
        ctx.obj = _Obj(rt)
    cmd.register(main)
    return main


def test_cli_extends_for_one_application_and_is_audited(cb, rt, wecom, clock):
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    say(cb, rt, wecom, APPLICANT, "韶关市武江精工制造有限公司")
    with rt.sessions() as s:
        app_id = s.scalar(select(Application.id))
    from tests.bot.application_helpers import CODE_WJ
    say(cb, rt, wecom, APPLICANT, CODE_WJ)
    result = CliRunner().invoke(_cli(rt), ["deadline", "extend", "--until", "2018-11-22T12:00",
                                           "--application", CODE_WJ, "--reason", "盖章延误", "--actor", "mishu"])
    assert result.exit_code == 0, result.output
    assert "2018-11-22 12:00" in result.output
    with rt.sessions() as s:
        assert stages.deadline(s, rt.settings, "apply", f"application:{app_id}") == dt.datetime(
            2018, 11, 22, 4, 0, tzinfo=dt.timezone.utc)
        [entry] = audit.entries(s, action="deadline.extend")
        assert entry.actor == "mishu" and entry.details["reason"] == "盖章延误"
    bad = CliRunner().invoke(_cli(rt), ["deadline", "extend", "--until", "2018-11-01T12:00"])
    assert bad.exit_code != 0 and "deadline_not_later" in bad.output


def test_sample_review_step_creates_endorsed_applications(rt, clock):
    from bot import sample
    from bot.samples import application as sample_app  # noqa: F401  (registers the step)
    with rt.sessions.begin() as s:
        done = sample.run(s, rt.settings, "review", clock())
    assert done == ["apply", "review"]
    with rt.sessions() as s:
        apps = s.scalars(select(Application)).all()
        assert len(apps) >= 3 and all(a.status == "recommended" for a in apps)
        assert all(len(a.documents) >= 6 for a in apps)
        assert stages.status(s, rt.settings, "review") == "open"
        assert audit.verify(s).ok
