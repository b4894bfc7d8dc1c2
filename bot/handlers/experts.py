"""Secretariat assigns experts (分配专家); experts declare 回避; results, consensus, reopen and report confirmation."""
from __future__ import annotations

from typing import Any

from workflows import scoring
from workflows.core import conversation, notices, people
from workflows.core.errors import InvalidInput
from workflows.core.models import CardTask, Conversation
from workflows.scoring import interest
from workflows.scoring.sheets import REASON_MAX as SHEET_REASON_MAX

from .. import confirm
from ..router import Context, Router
from ..wecom.inbound import CardEvent, Inbound, Text

REASON_FLOW = "scoring_reason"   # 回避 / 重开 / a second 共识 waiting for the member's reason
REASON_MAX = SHEET_REASON_MAX
PHASE_WORDS = {"材料": "material", "材料评审": "material", "现场": "site", "现场考评": "site"}
# 并列决定: which cut — the site-visit candidates, or the committee's list
TIE_KINDS = {"候选": scoring.SITE_KIND, "现场": scoring.SITE_KIND, "名单": scoring.VOTE_KIND,
             "合议": scoring.VOTE_KIND}


def _phase(ctx: Context, words: list[str]) -> tuple[str, list[str]]:
    """The phase named first in words (材料/现场), else the open one, else material."""
    if words and words[0] in PHASE_WORDS:
        return PHASE_WORDS[words[0]], words[1:]
    return scoring.current_phase(ctx.session, ctx.settings) or "material", words


def show_proposal(ctx: Context, view: scoring.ProposalView) -> None:
    """The proposal as text, plus a confirmation card when it satisfies every rule."""
    per_app = ctx.settings.award.rules.experts_per_application
    ctx.reply("experts.proposal", phase=view.phase, rows=view.rows, problems=view.problems, loads=view.loads,
              per_application=per_app)
    if not view.problems:
        notices.send_card(ctx.session, ctx.userid, "experts.proposal_card", subject=f"proposal:{view.id}", now=ctx.now,
                          phase=view.phase, proposal_id=view.id, applications=len(view.rows),
                          per_application=per_app)


def _parse_edit(text: str) -> tuple[str, list[str]]:
    number, sep, users = text.partition("=")
    if not sep or not number.strip():
        raise InvalidInput("invalid_input")
    return number.strip(), [u.strip() for u in users.replace("，", ",").replace("、", ",").split(",") if u.strip()]


def _name(ctx: Context, userid: str) -> str:
    """A member's name (the userid when the roster does not know him)."""
    person = people.get(ctx.session, userid)
    return person.name if person is not None and person.name else userid


def _expert_id(ctx: Context, text: str) -> str:
    """An expert named by userid or by roster name (names, not ids, are what people know)."""
    if people.get(ctx.session, text) is not None:
        return text
    named = [p.userid for p in people.with_role(ctx.session, *scoring.EXPERT_ROLES) if p.name == text]
    return named[0] if len(named) == 1 else text


def _ask_conflict(ctx: Context, number: str, reason: str) -> None:
    """The confirmation card of a 回避: what it withdraws and who is told."""
    reason = " ".join(reason.split())
    if len(reason) > REASON_MAX:
        raise InvalidInput("reason_too_long", max=REASON_MAX, length=len(reason))
    app = scoring.check_conflict(ctx.session, ctx.settings, ctx.userid, number)
    code, note = interest.parse_code(reason)
    confirm.ask(ctx, "conflict", subject=f"application:{app.id}",
                params={"number": app.number, "reason": note, "code": code},
                number=app.number, enterprise=app.enterprise_name, reason=note, code=code,
                withdraws=scoring.conflict_withdraws(ctx.session, ctx.settings, ctx.userid, app))


def _reopen(ctx: Context, phase: str, number: str, expert: str, reason: str) -> None:
    scoring.reopen_sheet(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, phase=phase, number=number,
                         expert=expert, reason=reason)
    ctx.reply("experts.reopened", number=scoring.normalize_number(number), expert=_name(ctx, expert),
              reason=" ".join(reason.split()))


def _consensus_shown(ctx: Context, checked: scoring.ConsensusCheck, value: str, note: str) -> dict[str, Any]:
    """Both consensus values side by side (the recorded one and the new one)."""
    prev = checked.previous
    return {"number": checked.app.number, "enterprise": checked.app.enterprise_name,
            "aggregate": scoring.points_text(checked.aggregate),
            "old": {"value": scoring.points_text(prev.value), "note": prev.note, "by": _name(ctx, prev.recorded_by),
                    "at": prev.recorded_at.isoformat()},
            "new": {"value": scoring.points_text(checked.value), "note": note}}


def register(router: Router) -> None:
    """Register assignment, 回避, results and leader commands."""

    @router.command("分配专家", verbs=("experts.assign",), order=40)
    def on_assign(ctx: Context, args: str) -> None:
        phase, words = _phase(ctx, args.split())
        if not words:
            show_proposal(ctx, scoring.propose(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now,
                                               phase=phase))
        elif words[0] == "确认":
            view = scoring.confirm(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, phase=phase)
            ctx.reply("experts.confirmed", phase=phase, rows=view.rows)
        elif words[0] == "修改" and len(words) >= 2:
            number, users = _parse_edit("".join(words[1:]))
            show_proposal(ctx, scoring.edit(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now,
                                            phase=phase, number=number, experts=users))
        else:
            ctx.reply("experts.assign_usage")

    @router.card("assign:confirm:")
    def on_assign_card(ctx: Context, event: CardEvent, rest: str) -> None:
        phase, _, proposal_id = rest.partition(":")
        task = ctx.session.get(CardTask, event.task_id)
        if task is None or task.recipient != ctx.userid or not proposal_id.isdigit() or task.status != "open":
            ctx.reply("common.card_unknown")
            return
        view = scoring.confirm(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, phase=phase,
                               proposal_id=int(proposal_id))
        notices.update_card(ctx.session, task, "experts.proposal_card", response_code=event.response_code, now=ctx.now,
                            replace_name="confirmed")
        ctx.reply("experts.confirmed", phase=phase, rows=view.rows)

    @router.command("回避", verbs=("experts.declare_conflict",), order=32)
    def on_conflict(ctx: Context, args: str) -> None:
        number, _, reason = args.partition(" ")
        if not number:
            ctx.reply("experts.conflict_usage")
            return
        app = scoring.check_conflict(ctx.session, ctx.settings, ctx.userid, number)
        if not reason.strip():  # 回避 asks for a reason, then for a confirmation
            conversation.start(ctx.session, ctx.userid, REASON_FLOW, "conflict", now=ctx.now, number=app.number)
            ctx.reply("experts.conflict_ask_reason", number=app.number, enterprise=app.enterprise_name,
                      years=ctx.settings.award.rules.conflict_lookback_years)
            return
        _ask_conflict(ctx, app.number, reason)

    @router.command("评审结果", verbs=("results.view",), order=41)
    def on_standing(ctx: Context, args: str) -> None:
        phase, _ = _phase(ctx, args.split())
        ctx.reply("experts.standing", **scoring.report_data(ctx.session, ctx.settings, phase))

    @router.command("共识", verbs=("results.consensus",), order=42)
    def on_consensus(ctx: Context, args: str) -> None:
        phase, words = _phase(ctx, args.split(maxsplit=2))
        if len(words) < 2:
            ctx.reply("experts.consensus_usage")
            return
        note = words[2] if len(words) > 2 else ""
        checked = scoring.check_consensus(ctx.session, ctx.settings, phase, words[0], words[1])
        if checked.previous is not None:  # a second 共识: show both, ask why, then confirm
            conversation.start(ctx.session, ctx.userid, REASON_FLOW, "consensus", now=ctx.now, phase=phase,
                               number=checked.app.number, value=words[1], note=note)
            ctx.reply("experts.consensus_exists", **_consensus_shown(ctx, checked, words[1], note))
            return
        row = scoring.record_consensus(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, phase=phase,
                                       number=words[0], value=words[1], note=note)
        ctx.reply("experts.consensus_recorded", number=checked.app.number, value=scoring.points_text(row.value),
                  note=row.note, previous=None)

    @router.command("并列决定", verbs=("results.tie_break",), order=42)
    def on_tie_break(ctx: Context, args: str) -> None:
        """`并列决定 候选|名单 SG…,SG… 理由`: a tie straddling the site-visit (候选) or the committee's (名单) cut,
        decided by whom the rules name (the leader or the chair); the shortlist follows from it."""
        words = args.split(maxsplit=2)
        if len(words) < 3 or words[0] not in TIE_KINDS:
            raise InvalidInput("tie_break_usage")
        picks = [r for r in words[1].replace("，", ",").replace("、", ",").split(",") if r]
        for number in picks:
            scoring.find_application(ctx.session, ctx.settings, number)
        apps = scoring.break_tie(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, kind=TIE_KINDS[words[0]],
                                 picks=picks, reason=words[2])
        ctx.reply("experts.tie_broken", cut=TIE_KINDS[words[0]], reason=words[2].strip(),
                  shortlist=[{"number": a.number, "name": a.enterprise_name} for a in apps])

    @router.command("重开", verbs=("scoring.reopen",), order=43)
    def on_reopen(ctx: Context, args: str) -> None:
        phase, words = _phase(ctx, args.split(maxsplit=2))
        if len(words) < 2:
            ctx.reply("experts.reopen_usage")
            return
        expert = _expert_id(ctx, words[1])
        app, _ = scoring.check_reopen(ctx.session, ctx.settings, phase, words[0], expert)
        if len(words) < 3:  # 重开 asks for a reason (recorded and audited)
            conversation.start(ctx.session, ctx.userid, REASON_FLOW, "reopen", now=ctx.now, phase=phase,
                               number=app.number, expert=expert)
            ctx.reply("experts.reopen_ask_reason", number=app.number, expert=_name(ctx, expert))
            return
        _reopen(ctx, phase, app.number, expert, words[2])

    @router.flow(REASON_FLOW)
    def on_reason(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
        data = dict(conv.data or {})
        reason = " ".join(inbound.content.split()) if isinstance(inbound, Text) else ""
        if not reason:
            ctx.reply("errors.reason_required")
            return
        if len(reason) > REASON_MAX:
            ctx.reply("errors.reason_too_long", max=REASON_MAX, length=len(reason))
            return
        conversation.end(ctx.session, ctx.userid)
        if conv.step == "conflict":
            _ask_conflict(ctx, data["number"], reason)
        elif conv.step == "reopen":
            _reopen(ctx, data["phase"], data["number"], data["expert"], reason)
        elif conv.step == "consensus":
            checked = scoring.check_consensus(ctx.session, ctx.settings, data["phase"], data["number"], data["value"])
            if checked.previous is None:  # withdrawn meanwhile: nothing to replace any more
                ctx.reply("experts.consensus_usage")
                return
            shown = _consensus_shown(ctx, checked, data["value"], data["note"])
            confirm.ask(ctx, "consensus_replace", subject=f"application:{checked.app.id}",
                        params={**data, "reason": reason}, reason=reason, **shown)

    @router.confirmed("conflict")
    def on_conflict_confirmed(ctx: Context, params: dict[str, Any]) -> None:
        app, withdrawn = scoring.declare_conflict(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now,
                                                  number=params["number"], reason=params["reason"],
                                                  code=params.get("code", "other"))
        ctx.reply("experts.conflict_recorded", number=app.number, enterprise=app.enterprise_name,
                  withdrawn=bool(withdrawn), reason=params["reason"], code=params.get("code", "other"))

    @router.confirmed("consensus_replace")
    def on_consensus_replace(ctx: Context, params: dict[str, Any]) -> None:
        previous = scoring.check_consensus(ctx.session, ctx.settings, params["phase"], params["number"],
                                           params["value"]).previous
        before = scoring.points_text(previous.value) if previous is not None else ""
        row = scoring.record_consensus(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now,
                                       phase=params["phase"], number=params["number"], value=params["value"],
                                       note=params["note"], reason=params["reason"])
        ctx.reply("experts.consensus_recorded", number=params["number"], value=scoring.points_text(row.value),
                  note=row.note, previous=before, reason=params["reason"])

    @router.command("确认报告", verbs=("results.confirm_report",), order=44)
    def on_confirm_report(ctx: Context, args: str) -> None:
        phase, _ = _phase(ctx, args.split())
        row = scoring.confirm_report(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, phase=phase)
        ctx.reply("experts.report_confirmed", phase=phase, digest=row.digest)
