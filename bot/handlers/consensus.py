"""合议 (issue 25.2): the group leader settles GB/T 19580 items one by one — agreed score, strengths, opportunities and
the reason for the change — and sees which disputed items are still open; the scorebook is in the workbench."""
from __future__ import annotations

from workflows import scoring
from workflows.core.errors import InvalidInput
from workflows.scoring import consensus

from ..router import Context, Router
from .experts import _phase


def _overview(ctx: Context, phase: str, number: str) -> None:
    app = scoring.find_application(ctx.session, ctx.settings, number)
    book = consensus.scorebook(ctx.session, ctx.settings, phase, app)
    ctx.reply("consensus.overview", book=book, number=app.number, enterprise=app.enterprise_name,
              items=[i for i in book["items"] if i["flagged"] or i["result"]])


def register(router: Router) -> None:
    """Register 合议."""

    @router.command("合议", verbs=("results.consensus",), order=42)
    def on_settle(ctx: Context, args: str) -> None:
        first, _, remainder = args.strip().partition(" ")
        phase, words = _phase(ctx, [first] if first else [])
        text = remainder if not words else args.strip()
        number, _, tail = text.strip().partition(" ")
        if not number:
            ctx.reply("consensus.usage")
            return
        if not tail.strip():
            _overview(ctx, phase, number)
            return
        item_key, _, body = tail.strip().partition(" ")
        parts = consensus.parse_settlement(body)
        if not parts["value"]:
            raise InvalidInput("consensus_bad_value", item=item_key, entry="not_a_number", data={"raw": ""})
        row, total = consensus.settle_item(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, phase=phase,
                                           number=number, item_key=item_key, value=parts["value"],
                                           strengths=parts["strengths"], opportunities=parts["opportunities"],
                                           reason=parts["reason"])
        app = scoring.find_application(ctx.session, ctx.settings, number)
        book = consensus.scorebook(ctx.session, ctx.settings, phase, app)
        item = next(i for i in book["items"] if i["key"] == row.item_key)
        ctx.reply("consensus.settled", number=app.number, enterprise=app.enterprise_name, item=item, book=book,
                  total=scoring.points_text(total.value) if total is not None else "")
