"""`call texts|publish|log` (征集, stage 3) and `training announce|attend|materials|report` (培训, stage 4)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from workflows.core.errors import DomainError

from . import base


def register(main: click.Group) -> None:
    """Add the call and training command groups."""
    main.add_command(call_group)
    main.add_command(training_group)


@click.group("call")
def call_group() -> None:
    """The call for applications: texts per channel and the publication log."""


@call_group.command("texts")
@click.option("--out", type=base.OUT_DIR, help="Directory (default: the publications directory).")
@click.pass_obj
def call_texts(obj, out: str | None) -> None:  # noqa: ANN001
    """Write the call's text for every configured channel (from the edition's data)."""
    from workflows import call

    from ..handlers.call import write_call_texts
    rt = obj.runtime
    try:
        with rt.sessions() as s:
            data = call.call_data(s, rt.settings)
    except DomainError as exc:     # example contacts: the texts are not written
        click.echo(f"{exc.code}: {base.error_text(rt, exc)}", err=True)
        sys.exit(1)
    for path in write_call_texts(rt.renderer, rt.settings, data, Path(out) if out else None):
        click.echo(f"wrote {path}")


@call_group.command("publish")
@click.argument("channel")
@click.option("--on", "day_text", required=True, help="The day it was published (2026-09-20, 9月20日 …).")
@click.option("--link", default="", help="Where it can be read.")
@click.option("--actor", default="cli")
@click.pass_obj
def call_publish(obj, channel: str, day_text: str, link: str, actor: str) -> None:  # noqa: ANN001
    """Record one publication of the call (channel key or name); audited."""
    from workflows import call

    from ..handlers.call import channel_key
    rt = obj.runtime
    key = channel_key(rt.settings, channel) or channel
    day = base.day(rt, day_text, "--on")
    base.run(obj, lambda s, now: call.record_publication(s, rt.settings, actor=actor, now=now, channel=key,
                                                         published_on=day, link=link))
    click.echo(f"recorded: {key} {day.isoformat()} {link}".rstrip())


@call_group.command("log")
@click.pass_obj
def call_log(obj) -> None:  # noqa: ANN001
    """Where and when the call was published."""
    from workflows import call
    rt = obj.runtime
    names = rt.settings.award.call.channel_names
    with rt.sessions() as s:
        rows = call.publications(s, rt.settings)
        for p in rows:
            click.echo(f"{p.published_on.isoformat()}  {p.channel:10} {names.get(p.channel, '')}  {p.link}")
        missing = [c for c in rt.settings.award.call.channels if c not in {p.channel for p in rows}]
    if missing:
        click.echo(f"not yet published on: {', '.join(missing)}")


@click.group("training")
def training_group() -> None:
    """The 宣贯会暨培训: announce, attendance, course materials, report."""


@training_group.command("announce")
@click.option("--at", "at_text", required=True, help="When it starts (2026-09-25 09:30).")
@click.option("--place", required=True)
@click.option("--title", required=True)
@click.option("--actor", default="cli")
@click.pass_obj
def training_announce(obj, at_text: str, place: str, title: str, actor: str) -> None:  # noqa: ANN001
    """Announce the training: sign-up cards to the recommending units and the enterprises already applying."""
    from sqlalchemy import select

    from workflows import call
    from workflows.apply.models import Application
    rt = obj.runtime
    when = base.moment(rt, at_text, "--at")

    def go(s, now):  # noqa: ANN001, ANN202
        invite = list(s.scalars(select(Application.applicant).where(
            Application.edition == rt.settings.award.edition_key)))
        ev = call.announce(s, rt.settings, actor=actor, now=now, title=title, starts_at=when, place=place,
                           invite=invite)
        return ev.id, len(invite)
    event_id, invited = base.run(obj, go)
    click.echo(f"announced training #{event_id}; cards to the recommending units and {invited} enterprise(s)")


@training_group.command("attend")
@click.argument("userid")
@click.option("--count", default=1, show_default=True, help="People of this unit who came (0: nobody).")
@click.option("--actor", default="cli")
@click.pass_obj
def training_attend(obj, userid: str, count: int, actor: str) -> None:  # noqa: ANN001
    """Record attendance of a signed-up unit."""
    from workflows import call
    base.run(obj, lambda s, now: call.record_attendance(s, obj.settings, actor=actor, now=now, userid=userid,
                                                        attended=count))
    click.echo(f"attendance recorded: {userid} {count}")


@training_group.command("materials")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--actor", default="cli")
@click.pass_obj
def training_materials(obj, files: tuple[str, ...], actor: str) -> None:  # noqa: ANN001
    """Send course files (PDF, DOCX, PPTX …, checked like uploads) to everyone signed up."""
    from workflows import call
    from workflows.documents.filetypes import KINDS, AllowedTypes
    from workflows.documents.store import DocumentRejected
    rt = obj.runtime
    store = rt.services["documents"]
    stored = []
    for name in files:
        try:
            with open(name, "rb") as fh:
                doc = store.store(fh, original_name=Path(name).name, allowed=AllowedTypes.from_config(KINDS),
                                  max_bytes=20 * 1024 * 1024)
        except DocumentRejected as exc:
            click.echo(f"{name}: refused ({exc.code}); nothing was sent", err=True)
            sys.exit(1)
        stored.append(call.Material(doc.sha256, Path(name).name, doc.size, doc.kind))
    recipients = base.run(obj, lambda s, now: call.send_materials(s, rt.settings, actor=actor, now=now, files=stored))
    click.echo(f"{len(stored)} file(s) queued to {len(recipients)} member(s)")


@training_group.command("report")
@click.pass_obj
def training_report(obj) -> None:  # noqa: ANN001
    """Sign-ups and attendance by region and department."""
    from workflows import call
    rt = obj.runtime
    rows = base.run(obj, lambda s, now: (call.event_data(call.require_event(s, rt.settings, managing=True)),
                                         call.attendance_report(s, rt.settings)))
    ev, report = rows
    click.echo(f"{ev['title']}  {ev['starts_at'].astimezone(rt.settings.award.tz):%Y-%m-%d %H:%M}  {ev['place']}")
    click.echo(f"{'region/department':20} {'units':>6} {'signed':>7} {'came':>6} {'units came':>11}")
    for r in report:
        click.echo(f"{r.area or '(none)':20} {r.units:>6} {r.signed_up:>7} {r.attended:>6} {r.units_attended:>11}")
    click.echo(f"{'total':20} {sum(r.units for r in report):>6} {sum(r.signed_up for r in report):>7} "
               f"{sum(r.attended for r in report):>6} {sum(r.units_attended for r in report):>11}")
