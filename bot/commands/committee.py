"""`python -m bot committee rules [record …]`, `committee admit` and `plan [record …]` — the city's approval of the
实施方案, the committee's 议事规则 and 破格."""
from __future__ import annotations

import datetime as dt
from typing import Any

import click

from workflows import committee

from . import base


def register(main: click.Group) -> None:
    """Add the `committee` command group."""

    @main.group("committee")
    def committee_group() -> None:
        """The evaluation committee: its 议事规则 (first meeting, stage 2) and its own decisions."""

    @committee_group.group("rules", invoke_without_command=True)
    @click.pass_context
    def rules(ctx: click.Context) -> None:
        """Show the vote rules in force (recorded by the committee, else the configured defaults)."""
        if ctx.invoked_subcommand is None:
            rt = ctx.obj.runtime
            click.echo(base.run(ctx.obj, lambda s, _now: rt.renderer.text(
                "messages/committee/rules.md.j2", **committee.rules_data(s, rt.settings))))

    @rules.command("record")
    @click.option("--held-on", required=True, help="The meeting's day (2026-09-10, 9月10日 …).")
    @click.option("--attendees", required=True, help="Who attended, comma-separated (names as in the minutes).")
    @click.option("--decisions", required=True, help="The meeting's decisions, as minuted.")
    @click.option("--minutes", default="", help="The minutes or document that adopted the rules (会议纪要编号).")
    @click.option("--quorum", default=None, help="Quorum as a fraction of the round's members, e.g. 2/3.")
    @click.option("--picks", type=int, default=None, help="How many candidates each member ticks (default: the seats).")
    @click.option("--runoff/--no-runoff", default=None, help="A tie at the last seat opens a runoff round (or the "
                                                               "committee decides it itself).")
    @click.option("--runoff-hours", type=int, default=None, help="How long a runoff round stays open.")
    @click.option("--conflict-policy", type=click.Choice(committee.CONFLICT_POLICIES), default=None,
                  help="exclude: a member's declared conflict is left off their card; allow: recorded only.")
    @click.option("--ballot-change/--no-ballot-change", default=None, help="May a member change a cast ballot.")
    @click.option("--majority", default=None, help="A winner needs more than this share of the votes of the members "
                  "who voted, e.g. 1/2 (0: no threshold).")
    @click.option("--shortfall", type=click.Choice(committee.SHORTFALLS), default=None,
                  help="Fewer winners than places reach it: runoff among the rest, or leave the places vacant.")
    @click.option("--actor", default="cli", help="Who records it (audit log).")
    @click.option("--now", default=None, help="Act as of this time (only where [server] time_travel is on); "
                  "default: now.")
    @click.pass_obj
    def rules_record(obj: Any, held_on: str, attendees: str, decisions: str, quorum: str | None, picks: int | None,
                     runoff: bool | None, runoff_hours: int | None, conflict_policy: str | None,
                     ballot_change: bool | None, majority: str | None, shortfall: str | None, minutes: str,
                     actor: str, now: str | None) -> None:
        """Record a committee meeting and the vote rules it adopted; unset rules keep the ones in force."""
        rt = obj.runtime
        day = base.day(rt, held_on, "--held-on")

        def go(s: Any, when: dt.datetime) -> str:
            committee.record_meeting(s, rt.settings, actor=actor, now=when, held_on=day,
                                     attendees=attendees.replace("，", ",").split(","), decisions=decisions,
                                     quorum=quorum, picks=picks, runoff=runoff, runoff_hours=runoff_hours,
                                     conflict_policy=conflict_policy, allow_ballot_change=ballot_change,
                                     majority=majority, shortfall=shortfall, minutes_ref=minutes)
            return rt.renderer.text("messages/committee/rules_recorded.md.j2", **committee.rules_data(s, rt.settings))
        click.echo(base.run(obj, go, now))

    @main.group("plan", invoke_without_command=True)
    @click.pass_context
    def plan(ctx: click.Context) -> None:
        """Stage 1: the city government's approval of the 实施方案 (and stage 2's 议事规则, as recorded)."""
        if ctx.invoked_subcommand is None:
            rt = ctx.obj.runtime
            click.echo(base.run(ctx.obj, lambda s, _now: rt.renderer.text(
                "messages/committee/plan.md.j2", **committee.plan_data(s, rt.settings))))

    @plan.command("record")
    @click.option("--date", "day", required=True, help="The approving document's date (YYYY-MM-DD).")
    @click.option("--document", required=True, help="The approving document's number, e.g. 韶府函〔2018〕88号.")
    @click.option("--actor", default="cli", help="Who records it (audit log).")
    @click.option("--now", default=None, help="Act as of this time (only where [server] time_travel is on); "
                  "default: now.")
    @click.pass_obj
    def plan_record(obj: Any, day: str, document: str, actor: str, now: str | None) -> None:
        """Record the city's approval of the 实施方案 (once; audited); the call does not open before it."""
        rt = obj.runtime
        approved_on = base.day(rt, day, "--date")

        def go(s: Any, when: dt.datetime) -> str:
            row = committee.record_plan_approval(s, rt.settings, actor=actor, now=when, approved_on=approved_on,
                                                 document_number=document)
            return f"plan approval recorded: {row.document_number} ({row.approved_on})"
        click.echo(base.run(obj, go, now))

    @committee_group.command("appoint")
    @click.argument("who")
    @click.option("--office", required=True, help="The member's office, e.g. 分管副市长 (the chair office chairs).")
    @click.option("--document", required=True, help="The appointing document, e.g. 韶府办函〔2018〕56号.")
    @click.option("--from", "effective_from", required=True, help="From which day (2018-09-01, 9月1日 …).")
    @click.option("--actor", default="cli", help="Who records it (audit log).")
    @click.pass_obj
    def appoint_cmd(obj: Any, who: str, office: str, document: str, effective_from: str, actor: str) -> None:
        """Record a committee member's appointment (WHO: userid or name); the configured chair office makes him
        the chair (由分管副市长为主任)."""
        rt = obj.runtime
        day = base.day(rt, effective_from, "--from")
        row = base.run(obj, lambda s, now: committee.appoint(s, rt.settings, actor=actor, now=now, who=who,
                                                             office=office, document=document, effective_from=day))
        click.echo(f"appointed: {row.userid} as {row.office} ({row.document}, from {row.effective_from})"
                   + (" — CHAIR" if row.chair else ""))

    @committee_group.command("members")
    @click.pass_obj
    def members_cmd(obj: Any) -> None:
        """The committee's composition: each appointment (office, document, from when), the chair."""
        rt = obj.runtime
        with rt.sessions() as s:
            data = committee.composition(s, rt.settings)
        for a in data["appointments"]:
            click.echo(f"{'CHAIR ' if a['chair'] else '      '}{a['userid']}\t{a['name']}\t{a['office']}\t"
                       f"{a['document']}\tfrom {a['from']}{'' if a['active'] else '  (no longer on the roster)'}")
        for m in data["missing"]:
            click.echo(f"NOT APPOINTED {m['userid']}\t{m['name']}")
        if not any(a["chair"] for a in data["appointments"]):
            click.echo(f"no chair appointed (chair office: {data['chair_office']})")

    @committee_group.command("admit")
    @click.argument("application")
    @click.option("--reason", required=True, help="The committee's reason (as minuted).")
    @click.option("--actor", required=True, help="The committee chair's userid (the decision is the committee's).")
    @click.option("--now", default=None, help="Act as of this time (only where [server] time_travel is on); "
                  "default: now.")
    @click.pass_obj
    def admit(obj: Any, application: str, reason: str, actor: str, now: str | None) -> None:
        """Admit an application below the material gate (破格) by the committee's decision; audited."""
        from workflows import scoring
        rt = obj.runtime

        def go(s: Any, when: dt.datetime) -> str:
            scoring.admit_below_gate(s, rt.settings, actor=actor, now=when, number=application, reason=reason)
            app = scoring.find_application(s, rt.settings, application)
            return f"{app.number} admitted below the gate ({rt.settings.award.rules.material_gate}): {reason}"
        click.echo(base.run(obj, go, now))
