"""Secretariat assigns experts (分配专家); experts declare 回避; results, consensus, reopen and report confirmation."""
from __future__ import annotations

from workflows import scoring
from workflows.core import notices
from workflows.core.errors import InvalidInput
from workflows.core.models import CardTask

from ..router import Context, Router
from ..wecom.inbound import CardEvent

PHASE_WORDS = {"材料": "material", "材料评审": "material", "现场": "site", "现场考评": "site"}


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
        app, withdrawn = scoring.declare_conflict(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now,
                                                  number=number, reason=reason.strip())
        ctx.reply("experts.conflict_recorded", number=app.number, enterprise=app.enterprise_name,
                  withdrawn=bool(withdrawn))

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
        row = scoring.record_consensus(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, phase=phase,
                                       number=words[0], value=words[1], note=words[2] if len(words) > 2 else "")
        ctx.reply("experts.consensus_recorded", number=scoring.normalize_number(words[0]), value=row.value,
                  note=row.note)

    @router.command("重开", verbs=("scoring.reopen",), order=43)
    def on_reopen(ctx: Context, args: str) -> None:
        phase, words = _phase(ctx, args.split(maxsplit=2))
        if len(words) < 2:
            ctx.reply("experts.reopen_usage")
            return
        scoring.reopen_sheet(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, phase=phase,
                             number=words[0], expert=words[1], reason=words[2] if len(words) > 2 else "")
        ctx.reply("experts.reopened", number=scoring.normalize_number(words[0]), expert=words[1])

    @router.command("确认报告", verbs=("results.confirm_report",), order=44)
    def on_confirm_report(ctx: Context, args: str) -> None:
        phase, _ = _phase(ctx, args.split())
        row = scoring.confirm_report(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, phase=phase)
        ctx.reply("experts.report_confirmed", phase=phase, digest=row.digest)
