"""CLI for site visits: `visits propose NUMBER DAY TIME --experts a,b --itinerary "…"` and `visits list`."""
from __future__ import annotations

import click

from workflows.scoring import visits

from . import base


def register(main: click.Group) -> None:
    """Add the visits command group."""
    main.add_command(visits_group)


@click.group("visits")
def visits_group() -> None:
    """Site visits (现场评审): propose or change one; list them with the enterprises' answers."""


@visits_group.command("propose")
@click.argument("number")
@click.argument("day")
@click.argument("time")
@click.option("--experts", required=True, help="Expert userids, comma-separated.")
@click.option("--itinerary", required=True, help="The programme of the day.")
@click.option("--actor", default="cli", help="Who proposes (audit log).")
@click.pass_obj
def propose(obj, number: str, day: str, time: str, experts: str, itinerary: str, actor: str) -> None:  # noqa: ANN001
    """Propose (or change) a candidate's site visit; the enterprise is asked to confirm, everyone concerned told."""
    rt = obj.runtime
    starts_at = base.moment(rt, f"{day} {time}", "DAY TIME")
    visit = base.run(obj, lambda s, now: visits.propose(
        s, rt.settings, actor=actor, now=now, number=number, starts_at=starts_at,
        experts=[e.strip() for e in experts.replace("，", ",").split(",") if e.strip()], itinerary=itinerary))
    click.echo(f"proposed {number} at {starts_at.astimezone(rt.settings.award.tz):%Y-%m-%d %H:%M} "
               f"(version {visit.version}); the enterprise is asked to confirm")


@visits_group.command("list")
@click.pass_obj
def list_cmd(obj) -> None:  # noqa: ANN001
    """Every site-visit candidate and its visit."""
    rt = obj.runtime
    with rt.sessions() as s:
        w = visits.window(s, rt.settings, now=rt.clock())
        tz = rt.settings.award.tz
        click.echo(f"site stage dates: {w.start.astimezone(tz):%Y-%m-%d %H:%M} - {w.end.astimezone(tz):%Y-%m-%d %H:%M}; "
                   + ("proposals accepted" + (" (ahead, the material review is open)" if w.ahead else "")
                      if w.open else f"no proposal now ({w.reason})"))
        for app, v in visits.all_visits(s, rt.settings):
            if v is None:
                click.echo(f"{app.number} {app.enterprise_name}: not scheduled")
                continue
            extra = f" ({v.reason}; prefers {v.preferred})" if v.status == "change_requested" else ""
            click.echo(f"{app.number} {app.enterprise_name}: {v.starts_at.astimezone(rt.settings.award.tz):%Y-%m-%d %H:%M} "
                       f"{v.status}{extra} experts={','.join(v.experts)} v{v.version}")
