"""Experts score in chat (评分): pick an application, enter items one by one or the whole sheet, confirm by card."""
from __future__ import annotations

import re
from enum import StrEnum

from workflows.core import conversation, notices, stages
from workflows import scoring
from workflows.scoring import comments, interest
from workflows.core.errors import NotFound
from workflows.apply.models import Application
from workflows.core.models import CardTask, Conversation
from workflows.scoring.models import ScoreSheet
from workflows.scoring.scoresheet import EntryError, decimal_text, item_points, normalize, points_text

from ..router import Context, Router
from ..wecom.inbound import CardEvent, Inbound, Text
from . import interest as declare

FLOW = "score"
REVISE = "修改"
CONFIRM = ("确认", "提交", "确认提交")
SKIP = ("跳过", "无", "不填")
_COMMENT = re.compile(r"^(?P<key>\d+(?:\.\d+)*)\s*(?P<body>.+)$")
_VALUE = re.compile(r"^\d+(?:\.\d+)?\s*(?:%|分|pts?)?$")   # a bare score value (in a reason step: a new value)


class Step(StrEnum):
    """Where an expert is in scoring one application."""

    ITEM = "item"
    REASON = "reason"
    COMMENTS = "comments"
    CONFIRM = "confirm"


def _error(e: EntryError) -> dict:
    return {"item_key": e.item_key, "code": str(e.code), "data": e.data}


def _app(ctx: Context, sheet: ScoreSheet) -> Application:
    return ctx.session.get(Application, sheet.application_id)


def _echo(ctx: Context, sheet: ScoreSheet, keys: list[str]) -> dict:
    """What was just recorded (item, percentage, points) and the sheet's running total, for the reply."""
    rb = scoring.configured_rubric(ctx.settings)
    return {"items": scoring.recorded(ctx.settings, sheet, keys),
            "running": points_text(scoring.running_total(ctx.settings, sheet)),
            "filled": len(sheet.percentages), "count": len(rb.items), "total_max": rb.total_max}


def ask_next(ctx: Context, sheet: ScoreSheet, conv: Conversation, *, intro: bool = False,
             echo: dict | None = None) -> None:
    """Ask for the reason of an outlying score first, then the first missing item (with the strengths and
    opportunities of the one just scored), or show the summary and move on to comments/confirmation."""
    rb = scoring.configured_rubric(ctx.settings)
    unexplained = comments.missing_reasons(ctx.session, ctx.settings, sheet)
    if unexplained:
        item = rb.item(unexplained[0])
        conversation.advance(conv, Step.REASON, now=ctx.now, item=item.key)
        ctx.reply("scoring.ask_reason", echo=echo, item={"key": item.key, "name": item.name},
                  percent=int(sheet.percentages[item.key]), limit=ctx.settings.award.rules.outlier_item_percent)
        return
    missing = scoring.missing_items(ctx.settings, sheet)
    app = _app(ctx, sheet)
    if missing:
        item = rb.item(missing[0])
        prev = conv.data.get("prev")
        conversation.advance(conv, Step.ITEM, now=ctx.now, item=item.key)
        ctx.reply("scoring.ask_item", intro=intro, echo=echo, number=app.number, enterprise=app.enterprise_name,
                  comment_for=prev if prev and prev not in sheet.comments else None,
                  step=rb.step, position=rb.item_keys.index(item.key) + 1, count=len(rb.items),
                  standard=ctx.settings.award.rubric.standard, guide=ctx.settings.award.rubric.guide,
                  process=rb.is_process(item.key),
                  item={"key": item.key, "name": item.name, "max": item.max_points},
                  example_points=decimal_text(item_points(item.max_points, 60)),
                  bands=[{"low": lo, "high": hi, "low_points": points_text(item_points(item.max_points, lo)),
                          "high_points": points_text(item_points(item.max_points, hi))} for lo, hi in rb.bands])
        return
    show_summary(ctx, sheet, echo=echo)
    if conv.step in (Step.ITEM, Step.REASON) and not conv.data.get("commented"):
        conversation.advance(conv, Step.COMMENTS, now=ctx.now)
        ctx.reply("scoring.ask_comments", categories=[{"key": c.key, "name": c.name} for c in rb.categories],
                  uncommented=[k for k in rb.item_keys if k not in sheet.comments],
                  last=conv.data.get("prev") if conv.data.get("prev") not in sheet.comments else None)
    else:
        ask_confirm(ctx, sheet, conv)


def show_summary(ctx: Context, sheet: ScoreSheet, *, echo: dict | None = None) -> None:
    """Category subtotals and the total of a complete sheet."""
    rb = scoring.configured_rubric(ctx.settings)
    score = scoring.score_of(ctx.settings, sheet)
    app = _app(ctx, sheet)
    ctx.reply("scoring.summary", echo=echo, number=app.number, enterprise=app.enterprise_name,
              total_max=rb.total_max, total=points_text(score.total),
              categories=[{"key": c.key, "name": c.name, "max": c.max_points,
                           "points": points_text(score.by_category[c.key])} for c in rb.categories])


def ask_confirm(ctx: Context, sheet: ScoreSheet, conv: Conversation) -> None:
    """Send the confirmation card."""
    rb = scoring.configured_rubric(ctx.settings)
    app = _app(ctx, sheet)
    conversation.advance(conv, Step.CONFIRM, now=ctx.now, commented=True)
    notices.send_card(ctx.session, ctx.userid, "scoring.confirm", subject=f"sheet:{sheet.id}", now=ctx.now,
                      number=app.number, enterprise=app.enterprise_name, sheet_id=sheet.id,
                      total=points_text(scoring.score_of(ctx.settings, sheet).total), total_max=rb.total_max)
    ctx.reply("scoring.confirm_hint")


def confirm(ctx: Context, sheet_id: int) -> None:
    """Lock the sheet and tell the expert."""
    sheet = scoring.confirm_sheet(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, sheet_id=sheet_id)
    app = _app(ctx, sheet)
    conversation.end(ctx.session, ctx.userid)
    ctx.reply("scoring.confirmed", number=app.number, enterprise=app.enterprise_name, phase=sheet.phase,
              total=points_text(sheet.total), deadline=stages.deadline(ctx.session, ctx.settings, sheet.phase).isoformat())


def no_phase(ctx: Context, word: str) -> None:
    """No scoring stage is open: promise a notice only where one will come (the material review not begun);
    between the phases or after both, say so instead of "阶段开始时我会通知您"."""
    material, site = (stages.status(ctx.session, ctx.settings, p) for p in scoring.PHASES)
    state = "pending" if material == "pending" else "between" if site == "pending" else "over"
    if state == "pending":
        stages.promise_notice(ctx.session, ctx.settings, scoring.PHASES[0], ctx.userid, now=ctx.now, word=word)
    ctx.reply("scoring.no_phase", state=state)


def parse_comments(text: str, keys: set[str]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Lines like '4.1.2 优势：…；改进：…' (an item, or a whole category '4.1 …') into comments, plus the lines
    not understood."""
    found: dict[str, dict[str, str]] = {}
    bad: list[str] = []
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        match = _COMMENT.match(normalize(line[:12]) + line[12:])
        parsed = comments.parse_comment(match["body"]) if match is not None and match["key"] in keys else None
        if parsed is None:
            bad.append(line[:30])
            continue
        found[match["key"]] = parsed
    return found, bad


def _comment_keys(ctx: Context) -> set[str]:
    rb = scoring.configured_rubric(ctx.settings)
    return {c.key for c in rb.categories} | set(rb.item_keys)


def _comment_only(ctx: Context, sheet: ScoreSheet, conv: Conversation, raw: str) -> bool:
    """A message that is only a comment ('优势：…；改进：…' for the item just scored, or '4.1.2 优势：…'): store
    it, say so, and go on where the expert was. False when the message is something else."""
    value, comment = comments.split_value(raw)
    value = normalize(value)
    rb = scoring.configured_rubric(ctx.settings)
    if not comment or (value and rb.item(value) is None and value not in {c.key for c in rb.categories}):
        return False
    key = value or conv.data.get("prev")
    parsed = comments.parse_comment(comment)
    if not key or parsed is None:
        ctx.reply("scoring.comments_error", lines=[raw[:30]])
        return True
    scoring.set_comments(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, sheet_id=sheet.id,
                         comments={key: parsed})
    current = rb.item(conv.data.get("item")) if conv.step == Step.ITEM and conv.data.get("item") else None
    ctx.reply("scoring.comment_saved", key=key, name=(rb.item(key).name if rb.item(key) else ""),
              next=({"key": current.key, "name": current.name, "max": current.max_points}
                    if current and current.key in scoring.missing_items(ctx.settings, sheet) else None),
              confirm=conv.step == Step.CONFIRM)
    return True


def register(router: Router) -> None:
    """Register the scoring words, flow and card buttons."""

    @router.command("评分", verbs=("scoring.score",), order=30)
    def on_score(ctx: Context, args: str) -> None:
        phase = scoring.current_phase(ctx.session, ctx.settings)
        if phase is None:
            no_phase(ctx, "评分")
            return
        words = args.split()
        if not words:
            rb = scoring.configured_rubric(ctx.settings)
            ctx.reply("scoring.list", phase=phase, items=len(rb.items),
                      deadline=stages.deadline(ctx.session, ctx.settings, phase).isoformat(),
                      applications=[{"number": a.number, "enterprise": a.enterprise_name,
                                     "status": s.status if s else "", "total": points_text(s.total) if s else "",
                                     "filled": len(s.percentages) if s else 0}
                                    for a, s in scoring.my_sheets(ctx.session, ctx.settings, ctx.userid, phase)])
            return
        sheet = scoring.open_sheet(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, phase=phase,
                                   number=words[0])
        if sheet.status == "confirmed":
            if REVISE not in words[1:]:
                ctx.reply("scoring.locked", number=_app(ctx, sheet).number, total=points_text(sheet.total))
                return
            scoring.revise_sheet(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, sheet_id=sheet.id)
        conv = conversation.start(ctx.session, ctx.userid, FLOW, Step.ITEM, now=ctx.now, sheet_id=sheet.id)
        ask_next(ctx, sheet, conv, intro=True)

    @router.flow(FLOW)
    def on_flow(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
        if not isinstance(inbound, Text):
            ctx.reply("scoring.text_only")
            return
        text = normalize(inbound.content)
        sheet = ctx.session.get(ScoreSheet, conv.data.get("sheet_id"))
        if sheet is None or sheet.expert != ctx.userid or sheet.edition != ctx.settings.award.edition_key:
            conversation.end(ctx.session, ctx.userid)
            raise NotFound("sheet_not_found")
        if conv.step == Step.COMMENTS and "=" not in text:
            if text not in SKIP:
                found, bad = parse_comments(inbound.content, _comment_keys(ctx))
                if bad or not found:
                    ctx.reply("scoring.comments_error", lines=bad or [text[:30]])
                    return
                scoring.set_comments(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, sheet_id=sheet.id,
                                     comments=found)
                ctx.reply("scoring.comments_saved", count=len(found))
            ask_confirm(ctx, sheet, conv)
            return
        if conv.step == Step.REASON and "=" not in text and not _VALUE.match(text):
            scoring.set_reason(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, sheet_id=sheet.id,
                               item_key=conv.data.get("item") or "", reason=inbound.content)
            ctx.reply("scoring.reason_saved", key=conv.data.get("item"))
            ask_next(ctx, sheet, conv)
            return
        if "=" not in text and _comment_only(ctx, sheet, conv, inbound.content.strip()):
            return
        if conv.step == Step.CONFIRM and text in CONFIRM:
            confirm(ctx, sheet.id)
            return
        if "=" in text:
            entry = scoring.enter_sheet(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, sheet_id=sheet.id,
                                        text=text)
            ctx.reply("scoring.sheet_result", accepted=list(entry.percentages),
                      errors=[_error(e) for e in entry.errors], echo=_echo(ctx, sheet, list(entry.percentages)))
            if entry.errors and conv.step != Step.ITEM:
                return
        else:
            value_part, comment = comments.split_value(inbound.content.strip())
            text = normalize(value_part)
            key, _, value = text.partition(" ")
            item_key, raw = (key, value) if value and scoring.configured_rubric(ctx.settings).item(key) else \
                (conv.data.get("item"), text)
            if conv.step not in (Step.ITEM, Step.REASON) and item_key == conv.data.get("item") and not value:
                ctx.reply("scoring.edit_hint")
                return
            result = scoring.set_item(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, sheet_id=sheet.id,
                                      item_key=item_key or "", raw=raw)
            if isinstance(result, EntryError):
                ctx.reply("scoring.entry_error", error=_error(result))
                return
            parsed = comments.parse_comment(comment) if comment else None
            if parsed is not None:   # '60% 优势：…；改进：…' — the score and its comment in one message
                scoring.set_comments(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, sheet_id=sheet.id,
                                     comments={item_key: parsed})
            conversation.advance(conv, conv.step, now=ctx.now, prev=item_key)
            ask_next(ctx, sheet, conv, echo=_echo(ctx, sheet, [item_key]))
            return
        ask_next(ctx, sheet, conv)

    @router.card("score:")
    def on_card(ctx: Context, event: CardEvent, rest: str) -> None:
        action, _, sheet_id = rest.partition(":")
        task = ctx.session.get(CardTask, event.task_id)
        if not sheet_id.isdigit() or task is None or task.recipient != ctx.userid or task.status != "open":
            ctx.reply("common.card_unknown")
            return
        if action == "confirm":
            confirm(ctx, int(sheet_id))
            notices.update_card(ctx.session, task, "scoring.confirm", response_code=event.response_code,
                                now=ctx.now, replace_name="submitted")
        elif action == "edit":
            notices.update_card(ctx.session, task, "scoring.confirm", response_code=event.response_code,
                                now=ctx.now, replace_name="editing")
            ctx.reply("scoring.edit_hint")
        else:
            ctx.reply("common.card_unknown")

    @router.command("查阅", verbs=("scoring.score",), order=31)
    def on_materials(ctx: Context, args: str) -> None:
        phase = scoring.current_phase(ctx.session, ctx.settings)
        if phase is None:
            no_phase(ctx, "查阅")
            return
        if not args:
            raise NotFound("not_assigned", number="")
        app = scoring.require_assigned(ctx.session, ctx.settings, ctx.userid, args.split()[0], phase)
        if not interest.declared(ctx.session, ctx.userid, app.id):   # the files open after the declaration
            declare.ask(ctx, app)
            return
        declare.send_materials(ctx, app)

