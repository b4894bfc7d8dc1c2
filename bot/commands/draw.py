"""CLI for the expert draw: `experts pool import|show`, `experts draw [--verify]`, `experts leader`, `experts panel`."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from workflows.core.errors import NotFound
from workflows.scoring import draw, enrol, leader

from . import base
from .experts import _group


def _print_panel(rt, s) -> None:  # noqa: ANN001
    view = draw.panel(s, rt.settings)
    d = view.draw
    if d is None:
        click.echo(f"pool: {view.pool} experts; no draw yet")
        for m in view.members:
            click.echo(f"  0. leader   {m['status']:9} {m['userid']} {m['name']}")
        return
    click.echo(f"seed: {d.seed}")
    click.echo(f"pool digest: {d.pool_digest} ({view.pool} experts)")
    click.echo(f"drawn: {d.count} experts, {d.reserves} reserves")
    for x in d.excluded:
        click.echo(f"excluded: {x['userid']} ({', '.join(x['reasons'])})")   # the draw key
    click.echo("order: " + ", ".join(d.order))
    for x in d.supplements or []:
        click.echo(f"supplement {x['number']}: seed {x['seed']}; drawn {', '.join(x['drawn'])}; "
                   f"order {', '.join(x['order'])}")
    for m in view.members:
        lead = " LEADER" if m["leader"] else ""
        reach = (f"  DRAWN, NOT YET REACHABLE: enrol him (contact {m['contact']}): experts enrol \"{m['key']}\" USERID"
                 if m["status"] == draw.UNREACHABLE else "")
        click.echo(f"{m['position']:>3}. {m['kind']:10} {m['status']:11} {m['userid'] or '-'} {m['name']} "
                   f"({m['organization']}){lead}{reach}")


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
        """Replace the pool: name,organisation,region,specialty,contact[,userid][,conflict]; all lines or none."""
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
                why = f"  EXCLUDED: {', '.join(excluded[e.draw_key])}" if e.draw_key in excluded else ""
                click.echo(f"{e.draw_key}\t{e.userid or '-'}\t{e.name}\t{e.organization}\t{e.region}\t{e.specialty}{why}")
            click.echo(f"{len(entries)} experts; digest {draw.digest(entries)}")

    @experts_group.command("draw")
    @click.option("--count", type=int, default=None, help="How many experts (reserves come from the config).")
    @click.option("--seed", required=True, help="The published seed (of the draw, or of the supplementary draw).")
    @click.option("--supplement", is_flag=True, help="A supplementary draw from the pool left, once the reserves ran out.")
    @click.option("--verify", is_flag=True, help="Re-derive the draw (and each supplementary draw) and compare.")
    @click.option("--supplement-seed", "supplement_seeds", multiple=True,
                  help="With --verify: the seed of each supplementary draw, in order.")
    @click.option("--actor", default="cli", help="Who draws (audit log).")
    @click.pass_obj
    def draw_cmd(obj, count: int | None, seed: str, supplement: bool, verify: bool,  # noqa: ANN001
                 supplement_seeds: tuple[str, ...], actor: str) -> None:
        """Draw N experts and the reserves reproducibly from SEED (HMAC-SHA256 order), a --supplement draw with
        its own seed when the reserves ran out, or --verify the draw and every supplementary draw."""
        rt = obj.runtime
        if verify:
            with rt.sessions() as s:
                try:
                    checks = draw.verify_all(s, rt.settings, seed, list(supplement_seeds))
                except NotFound as exc:
                    click.echo(f"{exc.code}: {base.error_text(rt, exc)}", err=True)
                    sys.exit(1)
            ok = True
            for v in checks:
                label = f"supplement {v.number}" if v.number else "draw"
                if not v.checked:
                    click.echo(f"{label}: NOT CHECKED (give its seed with --supplement-seed)", err=True)
                    ok = False
                    continue
                click.echo(f"{label} experts: " + ", ".join(v.experts))
                if not v.number:
                    click.echo("reserves: " + ", ".join(v.reserves))
                if v.matches:
                    click.echo(f"{label} MATCH: the recorded {label} is what this seed gives")
                    continue
                ok = False
                why = ("the pool changed since the draw" if not v.pool_matches else
                       "this is not the recorded seed" if not v.seed_matches else "the recorded order differs")
                click.echo(f"{label} MISMATCH: {why}", err=True)
            if not ok:
                sys.exit(1)
            return
        if count is None:
            raise click.UsageError("give --count N (or --verify)")
        if supplement:
            base.run(obj, lambda s, now: draw.supplement(s, rt.settings, actor=actor, now=now, count=count,
                                                         seed=seed))
        else:
            base.run(obj, lambda s, now: draw.draw(s, rt.settings, actor=actor, now=now, count=count, seed=seed))
        with rt.sessions() as s:
            _print_panel(rt, s)

    @experts_group.command("leader")
    @click.argument("who")
    @click.option("--basis", default="", help="On what basis he is engaged (e.g. the 聘书's number).")
    @click.option("--actor", default="cli", help="Who engages (audit log).")
    @click.pass_obj
    def leader_cmd(obj, who: str, basis: str, actor: str) -> None:  # noqa: ANN001
        """Engage the one expert-group leader (组长), USERID or NAME of a roster expert, apart from the draw;
        he is asked for the 承诺书 and is never drawn."""
        rt = obj.runtime
        person = base.run(obj, lambda s, now: leader.engage(s, rt.settings, actor=actor, now=now, who=who,
                                                             basis=basis))
        click.echo(f"leader engaged: {person.userid} {person.name}; asked for the pledge")

    @experts_group.command("enrol")
    @click.argument("who")
    @click.argument("userid")
    @click.option("--actor", default="cli", help="Who enrols (audit log).")
    @click.pass_obj
    def enrol_cmd(obj, who: str, userid: str, actor: str) -> None:  # noqa: ANN001
        """Link a drawn expert not yet reachable (WHO: his draw key or pool name) to the roster USERID he was
        enrolled under (roster import first); if he was called up he is asked for the 承诺书."""
        rt = obj.runtime
        member = base.run(obj, lambda s, now: enrol.enrol(s, rt.settings, actor=actor, now=now, who=who,
                                                          userid=userid))
        click.echo(f"enrolled: {member.draw_key} -> {member.userid} ({member.status})")

    @experts_group.command("panel")
    @click.pass_obj
    def panel_cmd(obj) -> None:  # noqa: ANN001
        """The draw (seed, pool digest, exclusions, order) and each drawn expert's pledge status."""
        rt = obj.runtime
        with rt.sessions() as s:
            _print_panel(rt, s)
