"""Committee vote: ballot-card submissions and the `投票` chat word (secretariat, members, chair)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from workflows import committee, voting
from workflows.core import access, dates
from workflows.core.errors import DomainError, InvalidInput
from workflows.publicity import places
from workflows.core.settings import Settings

from .. import confirm
from ..router import Context, Router
from ..wecom.inbound import CardEvent



def open_vote(ctx: Context, closes_at: dt.datetime | None) -> dict[str, Any]:
    """Open a ballot on the final top candidates; the data of the reply."""
    candidates = voting.final_candidates(ctx.session, ctx.settings)
    ballot = voting.open_ballot(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, candidates=candidates,
                                closes_at=closes_at)
    return opened_data(ctx.session, ballot)


def opened_data(session: Any, ballot: Any) -> dict[str, Any]:
    """What the secretariat is told after opening a round."""
    turnout = voting.turnout(session, ballot.id)
    return {"ballot_id": ballot.id, "seats": ballot.seats, "closes_at": ballot.closes_at.isoformat(),
            "names": [c["enterprise_name"] for c in ballot.candidates],
            "cards": sum(1 for t in turnout if not t.recused), "recused": sum(1 for t in turnout if t.recused)}


def status_data(session: Any, settings: Settings) -> dict[str, Any] | None:
    """The latest round's turnout for the secretariat (never the choices)."""
    ballot = voting.latest_round(session, settings)
    if ballot is None:
        return None
    turnout = voting.turnout(session, ballot.id)
    electors = [t for t in turnout if not t.recused]
    return {"ballot_id": ballot.id, "round_no": ballot.round_no, "status": ballot.status,
            "closes_at": ballot.closes_at.isoformat(), "quorum": committee.effective(session, settings).quorum,
            "voted": sum(1 for t in electors if t.voted_at), "members": len(electors),
            "turnout": [{"name": t.name, "voted_at": t.voted_at.isoformat() if t.voted_at else None,
                         "recused": t.recused} for t in turnout]}


def register(router: Router) -> None:
    """Register the vote handlers."""

    # private: the dispatcher stores the callback without SelectedItems (who ticked what).
    @router.card("vote:", private=True)
    def on_ballot_card(ctx: Context, event: CardEvent, rest: str) -> None:
        action, _, ballot_id = rest.partition(":")
        if action != "submit" or not ballot_id.isdigit():
            ctx.reply("common.card_unknown")
            return
        # Refusals are outcomes, not exceptions: their audit entries must survive.
        out = voting.cast_ballot(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, ballot_id=int(ballot_id),
                                 task_id=event.task_id, selected=dict(event.selected),
                                 response_code=event.response_code or None)
        if out.status not in ("recorded", "replaced", "invalid"):  # invalid: explained with its fresh card
            ctx.reply(f"vote.{out.status}", **out.data)

    @router.command("投票", verbs=("vote.manage", "vote.cast"), order=60)
    def on_vote(ctx: Context, args: str) -> None:
        sub, _, rest = args.partition(" ")
        rest = rest.strip()
        if access.allows("vote.manage", ctx.role):
            _secretariat(ctx, sub, rest)
        elif sub == "结果" and access.allows("vote.status", ctx.role):
            _result(ctx)
        else:
            reissued = voting.reissue_card(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now)
            latest = voting.latest_round(ctx.session, ctx.settings)
            voted = latest is not None and any(t.member == ctx.userid and t.voted_at
                                               for t in voting.turnout(ctx.session, latest.id))
            # Once the round is closed the member is told its result, not "结果将在截止后公布".
            result = (voting.report(ctx.session, ctx.settings)
                      if latest is not None and latest.status != "open" and not reissued else None)
            ctx.reply("vote.member_status", reissued=reissued, voted=voted, result=result)

    def _secretariat(ctx: Context, sub: str, rest: str) -> None:
        s, settings = ctx.session, ctx.settings
        if sub in ("", "状态", "进度"):
            data = status_data(s, settings)
            ctx.reply("vote.status", **data) if data else ctx.reply("vote.none")
        elif sub in ("开始", "发起"):
            closes_at = dates.parse_when(rest, settings.award.tz, now=ctx.now) if rest else None
            candidates = voting.final_candidates(s, settings)
            shown = voting.check_openable(s, settings, now=ctx.now, candidates=candidates, closes_at=closes_at)
            confirm.ask(ctx, "vote_open", subject=f"vote:{settings.award.edition_key}",
                        params={"closes_at": closes_at.isoformat() if closes_at else None}, **shown)
        elif sub in ("结束", "截止"):
            out = voting.close_ballot(s, settings, actor=ctx.userid, now=ctx.now)
            places.settle_votes(s, settings, now=ctx.now)   # a replacement vote decided: the place is filled
            ctx.reply("vote.closed_reply", ballot_id=out.ballot_id, outcome=out.outcome, voted=out.voted,
                      members=out.members, runoff_ballot_id=out.runoff_ballot_id, round_no=out.round_no)
        elif sub == "延期" and rest:
            ballot = voting.extend_ballot(s, settings, actor=ctx.userid, now=ctx.now,
                                          closes_at=dates.parse_when(rest, settings.award.tz, now=ctx.now))
            ctx.reply("vote.extended_reply", ballot_id=ballot.id, round_no=ballot.round_no,
                      closes_at=ballot.closes_at.isoformat())
        elif sub == "声明":   # §五(三): ask each member to declare his own interests before the vote opens
            from workflows.voting import declarations
            ctx.reply("pledges.declarations_requested",
                      count=len(declarations.request(s, settings, actor=ctx.userid, now=ctx.now)))
        elif sub == "回避" and len(rest.split()) >= 2:
            member, application, *reason = rest.split()
            ctx.reply("vote.conflict_recorded", **voting.declare_conflict(
                s, settings, actor=ctx.userid, now=ctx.now, member=member, application=application,
                reason=" ".join(reason)))
        elif sub == "结果":
            _result(ctx)
        elif sub == "复核":
            ctx.reply("vote.verify", recounts=[{"ballot_id": r.ballot_id, "round_no": r.round_no, "ok": r.ok,
                                                "purpose": r.purpose,
                                                "differences": [f"{d.field} {d.key or ''}" for d in r.differences]}
                                               for r in voting.verify(s, settings)])
        else:
            ctx.reply("vote.usage")

    @router.command("平票决定", verbs=("committee.decide",), order=61)
    def on_tie(ctx: Context, args: str) -> None:
        refs_text, _, reason = args.strip().partition(" ")
        refs = [r for r in refs_text.replace("，", ",").replace("、", ",").split(",") if r]
        if not refs:
            tie = voting.tie_data(ctx.session, ctx.settings)
            raise InvalidInput("vote_tie_usage", tied=[f"{t['name']}（{t['number']}）" for t in tie["tied"]],
                               seats=tie["seats"])
        shown = voting.check_tie_decidable(ctx.session, ctx.settings, refs, reason)
        confirm.ask(ctx, "vote_tie_decision", subject=f"ballot:{shown['ballot_id']}",
                    params={"refs": [t["number"] for t in shown["chosen"]], "reason": shown["reason"]}, **shown)

    @router.confirmed("vote_tie_decision")
    def on_tie_confirmed(ctx: Context, params: dict[str, Any]) -> None:
        ballot = voting.decide_tie(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, refs=params["refs"],
                                   reason=params["reason"])
        places.settle_votes(ctx.session, ctx.settings, now=ctx.now)   # a replacement vote decided by the chair
        ctx.reply("vote.tie_decided_ok", purpose=ballot.purpose,
                  **{k: v for k, v in voting.report(ctx.session, ctx.settings, ballot.series_id).items()
                     if k != "purpose"})

    @router.confirmed("vote_open")
    def on_open_confirmed(ctx: Context, params: dict[str, Any]) -> None:
        closes_at = dt.datetime.fromisoformat(params["closes_at"]) if params.get("closes_at") else None
        ctx.reply("vote.opened", **open_vote(ctx, closes_at))

    def _result(ctx: Context) -> None:
        try:
            ctx.reply("vote.result", **voting.report(ctx.session, ctx.settings))
        except DomainError:
            ctx.reply("vote.none")
