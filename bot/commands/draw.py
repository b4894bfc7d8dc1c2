"""CLI for the expert draw: `experts pool import|show`, `experts draw [--verify]`, `experts leader`, `experts panel`."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from workflows.core.errors import NotFound
from workflows.scoring import draw

from . import base
from .experts import _group


def _print_panel(rt, s) -> None:  # noqa: ANN001
    view = draw.panel(s, rt.settings)
    d = view.draw
    if d is None:
        click.echo(f"pool: {view.pool} experts; no draw yet")
        return
    click.echo(f"seed: {d.seed}")
    click.echo(f"pool digest: {d.pool_digest} ({view.pool} experts)")
    click.echo(f"drawn: {d.count} experts, {d.reserves} reserves")
    for x in d.excluded:
        click.echo(f"excluded: {x['userid']} ({', '.join(x['reasons'])})")
    click.echo("order: " + ", ".join(d.order))
    for m in view.members:
        lead = " LEADER" if m["leader"] else ""
        click.echo(f"{m['position']:>3}. {m['kind']:8} {m['status']:9} {m['userid']} {m['name']} ({m['organization']}){lead}")


def register(main: click.Group) -> None:
    """Add pool, draw, leader and panel to the experts group."""
    experts_group = _group(main, "experts", "Expert assignment for material review and site visit.")
    pool_group = click.Group("pool", help="The provincial expert pool (专家库) this edition draws from.")
    experts_group.add_command(pool_group)

    @pool_group.command("import")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--actor", default="cli", help="Who imports (audit log).")
    @click.pass_obj
    def pool_import(obj, csv_file: str, actor: str) -> None:  # noqa: ANN001
        """Replace the pool: name,organisation,region,specialty,contact,userid[,conflict]; all lines or none."""
        text = Path(csv_file).read_text(encoding="utf-8-sig")
        rt = obj.runtime
        from workflows.core.errors import DomainError
        try:
            with rt.sessions.begin() as s:
                entries = draw.import_pool(s, rt.settings, actor=actor, now=rt.clock(), text=text)
                digest = draw.digest(entries)
        except DomainError as exc:
            if exc.code == "pool_invalid":
                for p in exc.data["problems"]:
                    click.echo(f"line {p['line']}: {p['code']} {p['detail']}".rstrip(), err=True)
                click.echo("nothing imported", err=True)
            else:
                click.echo(f"{exc.code}: {base.error_text(rt, exc)}", err=True)
            sys.exit(1)
        click.echo(f"imported {len(entries)} experts; pool digest {digest}")

    @pool_group.command("show")
    @click.pass_obj
    def pool_show(obj) -> None:  # noqa: ANN001
        """The pool as imported, with each entry's exclusion reasons (if any)."""
        rt = obj.runtime
        with rt.sessions() as s:
            entries = draw.pool(s, rt.settings)
            excluded = draw.exclusions(s, rt.settings, entries)
            for e in entries:
                why = f"  EXCLUDED: {', '.join(excluded[e.userid])}" if e.userid in excluded else ""
                click.echo(f"{e.userid}\t{e.name}\t{e.organization}\t{e.region}\t{e.specialty}{why}")
            click.echo(f"{len(entries)} experts; digest {draw.digest(entries)}")

    @experts_group.command("draw")
    @click.option("--count", type=int, default=None, help="How many experts (reserves come from the config).")
    @click.option("--seed", required=True, help="The published seed.")
    @click.option("--verify", is_flag=True, help="Re-derive the draw with this seed and compare with the record.")
    @click.option("--actor", default="cli", help="Who draws (audit log).")
    @click.pass_obj
    def draw_cmd(obj, count: int | None, seed: str, verify: bool, actor: str) -> None:  # noqa: ANN001
        """Draw N experts and the reserves reproducibly from SEED (HMAC-SHA256 order), or --verify a draw."""
        rt = obj.runtime
        if verify:
            with rt.sessions() as s:
                try:
                    v = draw.verify(s, rt.settings, seed)
                except NotFound as exc:
                    click.echo(f"{exc.code}: {base.error_text(rt, exc)}", err=True)
                    sys.exit(1)
            click.echo("experts: " + ", ".join(v.experts))
            click.echo("reserves: " + ", ".join(v.reserves))
            if v.matches:
                click.echo("MATCH: the recorded draw is what this seed gives")
                return
            why = "the pool changed since the draw" if not v.pool_matches else "another seed gives another order"
            click.echo(f"MISMATCH: {why}", err=True)
            sys.exit(1)
        if count is None:
            raise click.UsageError("give --count N (or --verify)")
        base.run(obj, lambda s, now: draw.draw(s, rt.settings, actor=actor, now=now, count=count, seed=seed))
        with rt.sessions() as s:
            _print_panel(rt, s)

    @experts_group.command("leader")
    @click.argument("userid")
    @click.option("--actor", default="cli", help="Who appoints (audit log).")
    @click.pass_obj
    def leader_cmd(obj, userid: str, actor: str) -> None:  # noqa: ANN001
        """Appoint the one expert-group leader (组长) among the drawn experts."""
        rt = obj.runtime
        person = base.run(obj, lambda s, now: draw.appoint_leader(s, rt.settings, actor=actor, now=now, userid=userid))
        click.echo(f"leader: {person.userid} {person.name}")

    @experts_group.command("panel")
    @click.pass_obj
    def panel_cmd(obj) -> None:  # noqa: ANN001
        """The draw (seed, pool digest, exclusions, order) and each drawn expert's pledge status."""
        rt = obj.runtime
        with rt.sessions() as s:
            _print_panel(rt, s)
