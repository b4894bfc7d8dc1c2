"""§五(三) in chat: `保密承诺` (the confidentiality pledge of recommenders, committee members and the agency; the
secretariat sees who has not signed and sends the cards) and `利益冲突` (a committee member's own declaration,
candidate by candidate, before the vote opens)."""
from __future__ import annotations

from workflows.core import access, notices, pledges
from workflows.core.errors import AlreadyDone
from workflows.core.models import CardTask
from workflows.voting import declarations

from ..router import Context, Router
from ..wecom.inbound import CardEvent


def register(router: Router) -> None:
    """Register 保密承诺, its card, and 利益冲突."""

    @router.command("保密承诺", verbs=("pledges.accept", "pledges.ask"), order=28)
    def on_pledge(ctx: Context, args: str) -> None:
        s, settings = ctx.session, ctx.settings
        if access.allows("pledges.ask", ctx.role):
            if args.strip() == "发送":
                asked = pledges.ask_all(s, settings, actor=ctx.userid, now=ctx.now)
                ctx.reply("pledges.sent", count=len(asked))
            else:
                ctx.reply("pledges.outstanding", members=[{"userid": u, "name": n, "state": st}
                                                          for u, n, st in pledges.outstanding(s, settings)])
            return
        if args.strip() == "接受":
            pledges.accept(s, settings, actor=ctx.userid, now=ctx.now)
            ctx.reply("pledges.accepted")
            return
        row = pledges.of(s, settings, ctx.userid)
        if row is not None and row.status == "accepted":
            ctx.reply("pledges.already")
            return
        if ctx.role not in settings.award.pledges.roles:
            ctx.reply("pledges.not_needed")
            return
        pledges.ask(s, settings, ctx.userid, ctx.now, again=True)

    @router.card("confidentiality:")
    def on_card(ctx: Context, event: CardEvent, rest: str) -> None:
        answer, _, ref = rest.partition(":")
        task = ctx.session.get(CardTask, event.task_id)
        if task is None or task.recipient != ctx.userid or answer != "accept" or not ref.isdigit():
            ctx.reply("common.card_unknown")
            return
        try:
            pledges.accept(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, pledge_id=int(ref))
        except AlreadyDone:
            notices.update_card(ctx.session, task, task.kind, response_code=event.response_code, now=ctx.now,
                                replace_name="pledged")
            raise
        notices.update_card(ctx.session, task, task.kind, response_code=event.response_code, now=ctx.now,
                            replace_name="pledged")
        ctx.reply("pledges.accepted")

    @router.command("利益冲突", verbs=("vote.declare",), order=61)
    def on_declare(ctx: Context, args: str) -> None:
        s, settings = ctx.session, ctx.settings
        words = args.split(maxsplit=1)
        if not words:
            ctx.reply("pledges.declaration", **declarations.status(s, settings, ctx.userid))
            return
        number = None if words[0] == "无" else words[0]
        reason = words[1] if len(words) > 1 and number is not None else ""
        out = declarations.declare(s, settings, actor=ctx.userid, now=ctx.now, number=number, reason=reason)
        ctx.reply("pledges.declared", declared=number, **out)
