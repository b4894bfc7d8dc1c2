"""CLI for the confidentiality pledges (§五(三)): `pledges ask`, `pledges list`."""
from __future__ import annotations

import click

from workflows.core import pledges

from . import base


def register(main: click.Group) -> None:
    """Add the pledges group."""

    @main.group("pledges")
    def group() -> None:
        """Confidentiality pledges of recommenders, committee members and the agency (§五(三))."""

    @group.command("ask")
    @click.option("--actor", default="cli", help="Who sends them (audit log).")
    @click.pass_obj
    def ask_cmd(obj, actor: str) -> None:  # noqa: ANN001
        """Send the pledge text and card to every member who signs and was not asked this edition."""
        rt = obj.runtime
        asked = base.run(obj, lambda s, now: pledges.ask_all(s, rt.settings, actor=actor, now=now))
        click.echo(f"asked: {len(asked)}" + (f" ({', '.join(asked)})" if asked else ""))

    @group.command("list")
    @click.pass_obj
    def list_cmd(obj) -> None:  # noqa: ANN001
        """Who signs and has not accepted yet (not asked / asked)."""
        rt = obj.runtime
        with rt.sessions() as s:
            rows = pledges.outstanding(s, rt.settings)
        for userid, name, state in rows:
            click.echo(f"{userid}\t{name}\t{state}")
        click.echo(f"{len(rows)} outstanding")
