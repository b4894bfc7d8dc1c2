"""`python -m bot edition purge EDITION [--yes]`: personal data of a finished, archived edition has an end."""
from __future__ import annotations

from typing import Any

import click

from workflows import retention

from . import base


def register(main: click.Group) -> None:
    """Add the edition command group."""
    main.add_command(edition_group)


@click.group("edition")
def edition_group() -> None:
    """A whole edition's data (several editions may share one database)."""


@edition_group.command("purge")
@click.argument("edition")
@click.option("--yes", is_flag=True, help="Purge. Without it: say what would be purged and change nothing.")
@click.option("--now", "now_text", metavar="ISO", default=None,
              help="Act as if it were this time (only where [server] time_travel is on, or without --yes).")
@click.option("--actor", default="cli", help="Who acts (audit log).")
@click.pass_obj
def purge_cmd(obj: Any, edition: str, yes: bool, now_text: str | None, actor: str) -> None:
    """Blank the personal data of a finished, archived EDITION once [retention] purge_after_days have passed
    since its archive: callback and outbox bodies, complainants' names, phones and ids, contacts, sign-up names,
    dialogs. Decisions, scores, papers, complaints' findings, files and the audit log are kept."""
    rt = obj.runtime
    if yes:
        plan = base.run(obj, lambda s, when: retention.purge(s, rt.settings, actor=actor, now=when, edition=edition),
                        now_text)
    else:
        plan = base.run(obj, lambda s, when: retention.plan(s, rt.settings, edition, now=when), now_text,
                        changes=False)
    click.echo(f"edition {edition}: finished {plan.finished_at.isoformat()}, archived {plan.archived_at.isoformat()}, "
               f"purge allowed from {plan.allowed_from.isoformat()}")
    for kind, count in plan.counts.items():
        click.echo(f"  {kind}: {count}")
    click.echo("purged (audited: edition.purge)" if yes else "nothing changed: add --yes to purge")
