"""`stage status|open|close`: the award's stages in the seed's order. Opening or closing checks what must come
first (`workflows.stage_order`), says what will follow (who is told), and asks (or `--yes` in scripts)."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import click
from sqlalchemy import func, select

from . import base

# The operator's words for the warnings of `workflows.stage_order.check` (the blockers are chat texts:
# templates/messages/errors/stage_order_blocked.md.j2).
WARNINGS = {
    "earlier_pending": "earlier stages never opened (they stay pending; `stage close KEY` skips one): {stages}",
    "deadline_passed": "its deadline {deadline} has passed already (extend it first if members still act in it)",
    "before_start": "it is planned to start on {start} ([[award.stages]] start)",
    "reopening": "it was closed: reopening it lets members act in it again",
    "never_opened": "it never opened: closing skips it (nobody is told it opened)",
    "before_deadline": "its deadline is {deadline}: closing now ends it early for everyone",
    "earlier_open": "earlier stages are still open: {stages}",
}


def _local(rt: Any, iso: str) -> str:
    return f"{dt.datetime.fromisoformat(iso).astimezone(rt.settings.award.tz):%Y-%m-%d %H:%M}"


def warning_lines(rt: Any, warnings: list[dict[str, Any]]) -> list[str]:
    """One operator line per warning."""
    lines = []
    for w in warnings:
        data = {k: v for k, v in w.items() if k != "code"}
        for key in ("deadline", "start"):
            if key in data:
                data[key] = _local(rt, data[key])
        if "stages" in data:
            data["stages"] = "、".join(data["stages"])
        lines.append("  warning: " + WARNINGS[w["code"]].format(**data))
    return lines


def told_lines(s: Any, since: int) -> list[str]:
    """Who the messages queued after outbox row `since` go to, by role and kind."""
    from workflows.core.models import OutboxMessage, Person
    rows = s.execute(select(OutboxMessage.recipient, OutboxMessage.kind).where(OutboxMessage.id > since)).all()
    if not rows:
        return ["  nobody is told (no member waits for it or owes anything in it)"]
    roles = {p.userid: p.role for p in s.scalars(select(Person).where(Person.userid.in_({r for r, _ in rows})))}
    by_kind = Counter((roles.get(r, "applicant"), k) for r, k in rows)
    people = len({r for r, _ in rows})
    return [f"  {people} member(s) will be told:"] + [f"    {n} × {kind} to {role}" for (role, kind), n
                                                      in sorted(by_kind.items())]


def change(obj: Any, key: str, action: str, actor: str, yes: bool) -> None:
    """Check, preview (rolled back), ask, then open or close `key`."""
    from workflows import stage_order
    from workflows.core.models import OutboxMessage
    rt = obj.runtime
    verb = stage_order.open_stage if action == "open" else stage_order.close_stage

    def preview(s: Any, when: dt.datetime) -> tuple[Any, list[str]]:
        plan = stage_order.check(s, rt.settings, key, action, now=when)
        if plan.blockers or not plan.changes:
            return plan, []
        since = s.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))
        verb(s, rt.settings, key, actor=actor, now=when)
        s.flush()
        return plan, told_lines(s, since) if action == "open" else []
    plan, told = base.run(obj, preview, changes=False)
    name = rt.settings.award.stage(key).name
    if not plan.changes:
        click.echo(f"{key} ({name}) is {plan.status} already; nothing was changed")
        return
    if plan.blockers:   # refused with the rule's own words (exit 1)
        base.run(obj, lambda s, when: verb(s, rt.settings, key, actor=actor, now=when))
    click.echo(f"{action} {key} ({name}), now {plan.status}:")
    for line in warning_lines(rt, plan.warnings) + told:
        click.echo(line)
    if not yes and not click.confirm(f"{action} {key}?", default=False):
        click.echo("nothing was changed", err=True)
        raise SystemExit(1)
    base.run(obj, lambda s, when: verb(s, rt.settings, key, actor=actor, now=when))
    click.echo(f"{'opened' if action == 'open' else 'closed'} {key}")


def register(main: click.Group) -> None:
    """Add the `stage` command group."""

    @main.group("stage")
    def stage() -> None:
        """Open, close and list the award's stages (in the seed's order)."""

    @stage.command("status")
    @click.pass_obj
    def stage_status(obj: Any) -> None:
        """Every stage with its state, start and effective deadline."""
        from workflows.core import stages
        rt = obj.runtime
        tz = rt.settings.award.tz
        with rt.sessions() as s:
            for st in rt.settings.award.stages:
                d = stages.deadline(s, rt.settings, st.key).astimezone(tz)
                b = st.start.astimezone(tz) if st.start else d
                click.echo(f"{st.key:18} {stages.status(s, rt.settings, st.key):8} {b:%Y-%m-%d} .. "
                           f"{d:%Y-%m-%d %H:%M}  {st.name}")

    @stage.command("open")
    @click.argument("key")
    @click.option("--yes", is_flag=True, help="Do not ask (scripts): the warnings are accepted.")
    @click.option("--actor", default="cli")
    @click.pass_obj
    def stage_open(obj: Any, key: str, yes: bool, actor: str) -> None:
        """Open a stage: refused out of the seed's order; says who will be told, then asks."""
        change(obj, key, "open", actor, yes)

    @stage.command("close")
    @click.argument("key")
    @click.option("--yes", is_flag=True, help="Do not ask (scripts): the warnings are accepted.")
    @click.option("--actor", default="cli")
    @click.pass_obj
    def stage_close(obj: Any, key: str, yes: bool, actor: str) -> None:
        """Close a stage: refused while what belongs in it is not done; warns of an early close, then asks."""
        change(obj, key, "close", actor, yes)
