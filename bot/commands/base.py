"""What every operator command shares: one transaction with polite refusals, and the one time parser."""
from __future__ import annotations

import datetime as dt
import sys
from typing import Any, Callable, TypeVar

import click

from workflows.core import dates
from workflows.core.errors import DomainError

T = TypeVar("T")


def error_text(rt: Any, exc: DomainError) -> str:
    """A refusal in the chat's own words (the template of its code), for the terminal."""
    try:
        return rt.renderer.text(f"messages/errors/{exc.code}.md.j2", **exc.data)
    except Exception:  # a code without its own template still says what it was
        return f"{exc.code}: {exc.data}"


def moment(rt: Any, text: str | None) -> dt.datetime:
    """A time the operator typed (the chat's forms; a date alone is 23:59:59), or the runtime's now."""
    if not text:
        return rt.clock()
    try:
        return dates.parse_when(text, rt.settings.award.tz, now=rt.clock())
    except dates.UnreadableTime as exc:
        raise click.BadParameter(error_text(rt, exc)) from None


def day(rt: Any, text: str) -> dt.date:
    """A calendar day the operator typed."""
    try:
        return dates.parse_day(text, rt.settings.award.tz, now=rt.clock())
    except dates.UnreadableTime as exc:
        raise click.BadParameter(error_text(rt, exc)) from None


def run(obj: Any, fn: Callable[[Any, dt.datetime], T], now: str | None = None) -> T:
    """Run fn(session, now) in one transaction; a refused action prints its reason and exits 1."""
    rt = obj.runtime
    when = moment(rt, now)
    try:
        with rt.sessions.begin() as s:
            return fn(s, when)
    except DomainError as exc:
        click.echo(f"{exc.code}: {error_text(rt, exc)}", err=True)
        sys.exit(1)
