"""现场问题 and 核实 (issue 25.3): the group leader (or the secretariat) lists the issues to verify on site per
candidate — item, what to verify, whom to ask, which documents —; the experts of the visit record their findings
per issue; an expert's `进度` shows the issue worksheets of his visits (the applicant's `进度` is unchanged)."""
from __future__ import annotations

import re

from workflows.core import access
from workflows.core.errors import InvalidInput
from workflows.scoring import siteissues

from ..router import Context, Router

_LABEL = re.compile(r"^(询问对象|询问|访谈对象|访谈|查阅文件|文件|资料)\s*[:：]\s*")
_ADJUST = re.compile(r"^[+\-−－＋]?\d{1,3}\s*[%％]?$")
_PART = re.compile(r"(发现|理由|原因)\s*[:：]")


def parse_issue(text: str) -> dict[str, str]:
    """'条款 核实内容 / 询问对象：… / 文件：…' → item_key, verify, ask, documents (unlabelled parts in that order)."""
    item_key, _, body = text.strip().partition(" ")
    parts = [p.strip() for p in re.split(r"\s*[/／]\s*", body.strip())]
    out = {"item_key": item_key, "verify": parts[0] if parts else "", "ask": "", "documents": ""}
    order = ["ask", "documents"]
    for part in parts[1:]:
        m = _LABEL.match(part)
        if m:
            key = "ask" if m.group(1) in ("询问对象", "询问", "访谈对象", "访谈") else "documents"
            out[key] = part[m.end():].strip()
            if key in order:
                order.remove(key)
        elif order:
            out[order.pop(0)] = part
    return out


def parse_finding(words: list[str]) -> dict:
    """['1', ('专家组'), '部分', ('-5'), '发现：…', '理由：…'] → position, as_group, outcome, adjustment, finding,
    reason (text without a label is the reason)."""
    if len(words) < 2:
        raise InvalidInput("site_finding_usage")
    position, rest = words[0], words[1:]
    as_group = rest[0] in ("专家组", "组")
    if as_group:
        rest = rest[1:]
    if not rest:
        raise InvalidInput("site_finding_usage")
    outcome, rest = rest[0], rest[1:]
    adjustment = 0
    if rest and _ADJUST.match(rest[0]):
        adjustment, rest = siteissues.parse_adjustment(rest[0]), rest[1:]
    text = " ".join(rest)
    pieces = _PART.split(text)
    out = {"finding": "", "reason": pieces[0].strip(" ;；。")}
    for mark, body in zip(pieces[1::2], pieces[2::2]):
        key = "finding" if mark == "发现" else "reason"
        out[key] = (out[key] + " " + body.strip(" ;；。")).strip() if key == "reason" and out[key] else \
            body.strip(" ;；。")
    return {"position": position, "as_group": as_group, "outcome": outcome, "adjustment": adjustment, **out}


def _worksheet(ctx: Context, number: str) -> dict:
    app = siteissues.candidate(ctx.session, ctx.settings, number)
    return siteissues.worksheet(ctx.session, ctx.settings, app)


def register(router: Router) -> None:
    """Register 现场问题, 核实 and the expert's 进度 (beside the applicant's)."""

    @router.command("现场问题", verbs=("siteissues.manage",), order=46)
    def on_issues(ctx: Context, args: str) -> None:
        words = args.split()
        if not words:
            ctx.reply("siteissues.overview", sheets=siteissues.site_worksheets(ctx.session, ctx.settings))
            return
        number, rest = words[0], args.strip()[len(words[0]):].strip()
        if not rest:
            ctx.reply("siteissues.worksheet", sheet=_worksheet(ctx, number))
            return
        if rest.startswith("修改"):
            position, _, body = rest[2:].strip().partition(" ")
            if not position or not body.strip():
                raise InvalidInput("site_issue_usage")
            row = siteissues.edit_issue(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, number=number,
                                        position=position, **parse_issue(body))
        else:
            row = siteissues.add_issue(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, number=number,
                                       **parse_issue(rest))
        ctx.reply("siteissues.saved", position=row.position, sheet=_worksheet(ctx, number))

    @router.command("核实", verbs=("siteissues.finding",), order=47)
    def on_finding(ctx: Context, args: str) -> None:
        words = args.split()
        if len(words) < 3:
            raise InvalidInput("site_finding_usage")
        p = parse_finding(words[1:])
        siteissues.record_finding(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, number=words[0], **p)
        sheet = _worksheet(ctx, words[0])
        issue = next(i for i in sheet["issues"] if str(i["position"]) == str(int(p["position"])))
        item = next(i for i in sheet["items"] if i["key"] == issue["item"])
        ctx.reply("siteissues.recorded", sheet=sheet, issue=issue, item=item, group=p["as_group"])

    applicant_progress = router.commands["进度"]

    @router.command("进度", verbs=(*(applicant_progress.verbs or ()), "siteissues.finding"),
                    order=applicant_progress.help_order)
    def on_progress(ctx: Context, args: str) -> None:
        if not access.allows("siteissues.finding", ctx.role):
            applicant_progress.handler(ctx, args)
            return
        ctx.reply("siteissues.progress", sheets=siteissues.expert_worksheets(ctx.session, ctx.settings, ctx.userid))
