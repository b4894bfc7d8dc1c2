"""`roster import FILE [--replace] [--yes]`, `roster remove USERID`, `roster list`: who may do what."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import base


class _RosterChanged(Exception):
    """The roster changed between the confirmation and the import: nothing was done."""


def register(main: click.Group) -> None:
    """Add the roster commands."""
    main.add_command(roster)


@click.group()
def roster() -> None:
    """Roster of secretariat, recommenders, experts and committee members."""


@roster.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True,
              help="The file is the whole roster: deactivate every active member who is not in it.")
@click.option("--yes", is_flag=True, help="Do not ask before deactivating members (with --replace).")
@click.option("--actor", default="cli", help="Who is importing (audit log).")
@click.pass_obj
def roster_import(obj, csv_file: str, replace: bool, yes: bool, actor: str) -> None:  # noqa: ANN001
    """Import or update members from CSV: userid,name,role,organization,region."""
    from workflows.core import people
    rt = obj.runtime
    text = Path(csv_file).read_text(encoding="utf-8-sig")
    rows, problems = people.parse_roster(text, rt.settings)
    if problems:
        _problems(problems)
    with rt.sessions() as s:
        problems = people.second_holders(s, text, rows, replace=replace)
    if problems:
        _problems(problems)
    leaving: list[str] = []
    if replace:
        with rt.sessions() as s:
            gone = people.absent_from(s, rows)
            leaving = [p.userid for p in gone]
            for p in gone:
                click.echo(f"will be deactivated: {p.userid} {p.name} ({p.role})")
        if leaving and not yes and not click.confirm(f"deactivate these {len(leaving)} member(s)?", default=False):
            click.echo("nothing changed", err=True)
            sys.exit(1)
    try:
        with rt.sessions.begin() as s:
            result = people.import_roster(s, text, actor=actor, now=rt.clock(), settings=rt.settings,
                                          replace=replace)
            if result.problems:
                _problems(result.problems)
            if sorted(result.deactivated) != sorted(leaving):
                raise _RosterChanged()
            from workflows.scoring import enrol   # drawn experts now on the roster: linked, asked for the pledge
            linked = [(m.draw_key, m.userid) for m in enrol.link_roster(s, rt.settings, actor=actor, now=rt.clock())]
            from workflows.core import pledges   # §五(三): new signers get the confidentiality pledge at once
            asked = pledges.ask_all(s, rt.settings, actor=actor, now=rt.clock())
    except _RosterChanged:
        click.echo("the roster changed while you were confirming; nothing changed — run the command again", err=True)
        sys.exit(1)
    for userid, old, new in result.role_changes:
        click.echo(f"role changed: {userid} {old} -> {new} (effective now)")
    for userid in result.deactivated:
        click.echo(f"deactivated: {userid} (every power ends now)")
    if asked:
        click.echo(f"confidentiality pledge sent to: {', '.join(asked)}")
    for key, userid in linked:
        click.echo(f"drawn expert enrolled: {key} -> {userid} (asked for the pledge if called up)")
    click.echo(f"imported: {result.created} new, {result.updated} updated, {len(result.deactivated)} deactivated")


def _problems(problems) -> None:  # noqa: ANN001
    for p in problems:
        click.echo(f"line {p.line}: {p.code} {p.detail}", err=True)
    click.echo("nothing imported", err=True)
    sys.exit(1)


@roster.command("remove")
@click.argument("userid")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@click.option("--actor", default="cli", help="Who is removing (audit log).")
@click.pass_obj
def roster_remove(obj, userid: str, reason: str, actor: str) -> None:  # noqa: ANN001
    """Deactivate one member: chat words, cards already sent and links stop working at once."""
    from workflows.core import people
    def go(s, now):  # noqa: ANN001, ANN202
        person = people.remove_member(s, userid, actor=actor, now=now, reason=reason)
        return person.name, person.role

    name, role = base.run(obj, go)
    click.echo(f"deactivated: {userid} {name} ({role}); every power ends now")


@roster.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also list deactivated members.")
@click.pass_obj
def roster_list(obj, show_all: bool) -> None:  # noqa: ANN001
    """Members by role: userid, name, organization, region (and whether active)."""
    from sqlalchemy import select

    from workflows.core.models import Person
    rt = obj.runtime
    with rt.sessions() as s:
        q = select(Person).order_by(Person.role, Person.userid)
        if not show_all:
            q = q.where(Person.active.is_(True))
        for p in s.scalars(q):
            state = "" if p.active else "  (deactivated)"
            click.echo(f"{p.role:16} {p.userid:16} {p.name}  {p.organization}  {p.region}{state}")
