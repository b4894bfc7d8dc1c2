"""`python -m bot vote open|close|status|verify|conflict|extend|report` — the secretariat's vote commands."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

from workflows import scoring, voting
from workflows.publicity import places

from ..handlers.voting import opened_data, status_data
from . import base


def _run(obj: Any, fn: Callable[[Any, Any], str]) -> None:
    """Run fn(session, runtime) in one transaction and print its text (a refusal exits 1)."""
    click.echo(base.run(obj, lambda s, _now: fn(s, obj.runtime)))


def _msg(rt: Any, name: str, **data: Any) -> str:
    return rt.renderer.text(f"messages/vote/{name}.md.j2", **data)


def register(main: click.Group) -> None:
    """Add the `vote` command group."""

    @main.group()
    def vote() -> None:
        """Committee vote on the final top candidates (stage 7.3)."""

    @vote.command("open")
    @click.option("--closes-at", help="Closing time, e.g. '2019-01-30 17:00' (default: the vote stage deadline).")
    @click.option("--actor", default="cli", help="Who opens it (audit log).")
    @click.pass_obj
    def vote_open(obj: Any, closes_at: str | None, actor: str) -> None:
        """Open the ballot on the final ranking's top candidates and send every member a card."""
        def fn(s: Any, rt: Any) -> str:
            when = base.moment(rt, closes_at, "--closes-at") if closes_at else None
            ballot = voting.open_ballot(s, rt.settings, actor=actor, now=rt.clock(), closes_at=when,
                                        candidates=voting.final_candidates(s, rt.settings))
            return _msg(rt, "opened", **opened_data(s, ballot))
        _run(obj, fn)

    @vote.command("close")
    @click.option("--actor", default="cli")
    @click.pass_obj
    def vote_close(obj: Any, actor: str) -> None:
        """Close the open round (early only once everyone has voted) and tally it."""
        def fn(s: Any, rt: Any) -> str:
            out = voting.close_ballot(s, rt.settings, actor=actor, now=rt.clock())
            places.settle_votes(s, rt.settings, now=rt.clock())   # a replacement vote decided: the place is filled
            return _msg(rt, "closed_reply", ballot_id=out.ballot_id, outcome=out.outcome, voted=out.voted,
                        members=out.members, runoff_ballot_id=out.runoff_ballot_id, round_no=out.round_no)
        _run(obj, fn)

    @vote.command("status")
    @click.pass_obj
    def vote_status(obj: Any) -> None:
        """Who has voted in the latest round (never for whom)."""
        def fn(s: Any, rt: Any) -> str:
            data = status_data(s, rt.settings)
            return _msg(rt, "status", **data) if data else _msg(rt, "none")
        _run(obj, fn)

    @vote.command("verify")
    @click.pass_obj
    def vote_verify(obj: Any) -> None:
        """Re-count every closed round from the stored papers; exit 1 on any difference."""
        rt = obj.runtime
        with rt.sessions() as s:
            recounts = voting.verify(s, rt.settings)
        for r in recounts:
            purpose = " (replacement vote)" if r.purpose == "replacement" else ""
            click.echo(f"ballot {r.ballot_id} round {r.round_no}{purpose}: {'OK' if r.ok else 'MISMATCH'}")
            for d in r.differences:
                click.echo(f"  {d.field} {d.key or ''}: recomputed={d.recomputed!r} recorded={d.recorded!r}")
        if not recounts:
            click.echo("no closed rounds")
        if not all(r.ok for r in recounts):
            sys.exit(1)

    @vote.command("conflict")
    @click.argument("userid")
    @click.argument("application")
    @click.option("--reason", default="")
    @click.option("--actor", default="cli")
    @click.pass_obj
    def vote_conflict(obj: Any, userid: str, application: str, reason: str, actor: str) -> None:
        """Record a committee member's declared conflict with an application (number or id)."""
        _run(obj, lambda s, rt: _msg(rt, "conflict_recorded", **voting.declare_conflict(
            s, rt.settings, actor=actor, now=rt.clock(), member=userid, application=application, reason=reason)))

    @vote.command("extend")
    @click.argument("closes_at")
    @click.option("--actor", default="cli")
    @click.pass_obj
    def vote_extend(obj: Any, closes_at: str, actor: str) -> None:
        """Move the open round's closing time, or reopen a round that closed without quorum."""
        def fn(s: Any, rt: Any) -> str:
            ballot = voting.extend_ballot(s, rt.settings, actor=actor, now=rt.clock(),
                                          closes_at=base.moment(rt, closes_at, "CLOSES_AT"))
            return _msg(rt, "extended_reply", ballot_id=ballot.id, round_no=ballot.round_no,
                        closes_at=ballot.closes_at.isoformat())
        _run(obj, fn)

    @vote.command("decide")
    @click.option("--winners", required=True, help="The tied candidates the committee chose, comma separated.")
    @click.option("--reason", required=True, help="The committee's decision as minuted (its meeting, its reason).")
    @click.option("--actor", required=True, help="The committee chair's userid (the decision is the committee's).")
    @click.pass_obj
    def vote_decide(obj: Any, winners: str, reason: str, actor: str) -> None:
        """Record the committee's decision on a deadlocked tie (only tied candidates, exactly the open places)."""
        def fn(s: Any, rt: Any) -> str:
            refs = [r for r in winners.replace("，", ",").split(",") if r.strip()]
            for ref in refs:   # each names an application of the edition before anything is decided
                scoring.find_application(s, rt.settings, ref)
            ballot = voting.decide_tie(s, rt.settings, actor=actor, now=rt.clock(), refs=refs, reason=reason)
            places.settle_votes(s, rt.settings, now=rt.clock())
            return _msg(rt, "tie_decided_ok", **voting.report(s, rt.settings, ballot.series_id))
        _run(obj, fn)

    @vote.command("report")
    @click.option("--out", "out_path", type=base.OUT_FILE, help="Write the report to this file.")
    @click.pass_obj
    def vote_report(obj: Any, out_path: str | None) -> None:
        """Every vote's result report (Markdown: the award vote, then replacement votes); counts appear only for
        closed rounds."""
        def fn(s: Any, rt: Any) -> str:
            reports = voting.reports(s, rt.settings)
            if not reports:
                return _msg(rt, "none")
            text = "\n\n".join(rt.renderer.text("reports/vote.md.j2", **r) for r in reports)
            if out_path:
                Path(out_path).write_text(text + "\n", encoding="utf-8")
                return f"written: {out_path}"
            return text
        _run(obj, fn)
