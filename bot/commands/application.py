"""`python -m bot deadline extend ...`: the secretariat extends the application deadline (audited)."""
from __future__ import annotations

import datetime as dt

import click

from workflows import apply
from workflows.core.errors import DomainError

from . import base


def extend(rt, *, until: dt.datetime, number: str | None, reason: str, actor: str) -> str:  # noqa: ANN001
    """Extend for everyone or one application (number or credit code); return a one-line summary."""
    with rt.sessions.begin() as s:
        new, app = apply.extend_deadline(s, rt.settings, until=until, number=number, reason=reason,
                                               actor=actor, now=rt.clock())
        who = f"application {app.number or app.credit_code}" if app else "everyone"
    local = new.astimezone(rt.settings.award.tz)
    return f"apply deadline for {who} is now {local:%Y-%m-%d %H:%M} ({rt.settings.award.timezone})"


def register(main: click.Group) -> None:
    """Add the `deadline` command group."""

    @main.group()
    def deadline() -> None:
        """Stage deadlines (extensions are audited)."""

    @deadline.command("extend")
    @click.option("--until", "until", required=True, help="New deadline: 2018-11-20 18:00, 2018/11/20, 11月20日 … "
                  "(a date alone is 23:59:59 in the award's time zone).")
    @click.option("--application", "number", default=None, help="Application number or credit code; "
                  "omit to extend for everyone.")
    @click.option("--reason", default="", help="Why (recorded in the audit log).")
    @click.option("--actor", default="cli", help="Who is extending (audit log).")
    @click.pass_obj
    def deadline_extend(obj, until: str, number: str | None, reason: str, actor: str) -> None:  # noqa: ANN001
        """Extend the application (申报推荐) deadline for everyone or one application."""
        rt = obj.runtime
        when = base.moment(rt, until, "--until")
        try:
            click.echo(extend(rt, until=when, number=number, reason=reason, actor=actor))
        except DomainError as exc:
            base.refuse(rt, exc)
