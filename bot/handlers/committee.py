"""Chat for the committee's own decisions: the 议事规则 (`议事规则`, `议事规则 记录 …`) and 破格 admissions."""
from __future__ import annotations

import datetime as dt
from typing import Any

from workflows import committee
from workflows.core import access, dates
from workflows.core.errors import InvalidInput
from workflows.core.settings import Settings

from .. import confirm
from ..router import Context, Router

YES = {"是", "允许", "自动", "有", "yes", "true"}
NO = {"否", "不允许", "无", "不", "no", "false"}
POLICY_WORDS = {"排除": "exclude", "exclude": "exclude", "允许": "allow", "仅记录": "allow", "allow": "allow"}
KEYS = {"日期": "held_on", "出席": "attendees", "法定人数": "quorum", "每人选": "picks", "决选": "runoff",
        "决选时长": "runoff_hours", "回避": "conflict_policy", "改票": "allow_ballot_change", "决定": "decisions",
        "当选": "majority", "不足": "shortfall", "纪要": "minutes_ref"}
SHORTFALL_WORDS = {"决选": "runoff", "再投": "runoff", "runoff": "runoff", "空缺": "vacant", "vacant": "vacant"}


def _flag(word: str, key: str) -> bool:
    if word in YES:
        return True
    if word in NO:
        return False
    raise InvalidInput("committee_rules_usage", key=key)


def parse_rules(args: str, settings: Settings, now: dt.datetime) -> dict[str, Any]:
    """`日期=2026-09-10 出席=张三,李四 法定人数=2/3 每人选=3 决选=自动 决选时长=48 回避=排除 改票=不允许
    纪要=… 决定=…` (决定 takes the rest of the line) as `committee.record_meeting`'s arguments."""
    head, sep, decisions = args.partition("决定=")
    out: dict[str, Any] = {"decisions": decisions.strip() if sep else ""}
    for token in head.split():
        key, eq, value = token.partition("=")
        if not eq or key not in KEYS or not value:
            raise InvalidInput("committee_rules_usage", key=key)
        name = KEYS[key]
        if name == "held_on":
            try:
                out[name] = dates.parse_day(value, settings.award.tz, now=now)
            except dates.UnreadableTime:
                raise InvalidInput("committee_rules_usage", key=key) from None
        elif name == "attendees":
            out[name] = [a for a in value.replace("，", ",").replace("、", ",").split(",") if a]
        elif name in ("picks", "runoff_hours"):
            if not value.isdigit():
                raise InvalidInput("committee_rules_usage", key=key)
            out[name] = int(value)
        elif name in ("runoff", "allow_ballot_change"):
            out[name] = _flag(value, key)
        elif name == "shortfall":
            if value not in SHORTFALL_WORDS:
                raise InvalidInput("committee_bad_shortfall", shortfall=value)
            out[name] = SHORTFALL_WORDS[value]
        elif name == "conflict_policy":
            if value not in POLICY_WORDS:
                raise InvalidInput("committee_rules_usage", key=key)
            out[name] = POLICY_WORDS[value]
        else:
            out[name] = value
    if "held_on" not in out or "attendees" not in out or not out["decisions"]:
        raise InvalidInput("committee_rules_usage", key="日期/出席/决定")
    return out


def register(router: Router) -> None:
    """Register `议事规则` and `破格`."""

    @router.command("议事规则", verbs=("committee.rules", "committee.rules_view"), order=55)
    def on_rules(ctx: Context, args: str) -> None:
        sub, _, rest = args.partition(" ")
        if sub == "记录" and access.allows("committee.rules", ctx.role):
            parsed = parse_rules(rest.strip(), ctx.settings, ctx.now)
            committee.record_meeting(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, **parsed)
            ctx.reply("committee.rules_recorded", **committee.rules_data(ctx.session, ctx.settings))
        elif sub:
            ctx.reply("committee.rules_usage_reply", manage=access.allows("committee.rules", ctx.role))
        else:
            ctx.reply("committee.rules", **committee.rules_data(ctx.session, ctx.settings))

    @router.command("实施方案", verbs=("plan.record", "committee.rules_view"), order=54)
    def on_plan(ctx: Context, args: str) -> None:
        """`实施方案` shows stages 1–2 as recorded; `实施方案 记录 2018-08-28 韶府函〔2018〕88号` records the approval."""
        sub, _, rest = args.partition(" ")
        if sub == "记录" and access.allows("plan.record", ctx.role):
            day, _, number = rest.strip().partition(" ")
            try:
                approved_on = dates.parse_day(day, ctx.settings.award.tz, now=ctx.now)
            except dates.UnreadableTime:
                raise InvalidInput("plan_usage") from None
            if not number.strip():
                raise InvalidInput("plan_usage")
            committee.record_plan_approval(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now,
                                           approved_on=approved_on, document_number=number)
            ctx.reply("committee.plan_recorded", **committee.plan_data(ctx.session, ctx.settings))
        else:
            ctx.reply("committee.plan", manage=access.allows("plan.record", ctx.role),
                      **committee.plan_data(ctx.session, ctx.settings))

    @router.command("委员会", verbs=("committee.appoint", "committee.rules_view"), order=55)
    def on_composition(ctx: Context, args: str) -> None:
        ctx.reply("committee.composition", **committee.composition(ctx.session, ctx.settings))

    @router.command("破格", verbs=("committee.admit",), order=56)
    def on_admit(ctx: Context, args: str) -> None:
        ref, _, reason = args.strip().partition(" ")
        if not ref or len(reason.strip()) < committee.admission.REASON_MIN:
            raise InvalidInput("committee_admit_reason", min=committee.admission.REASON_MIN)
        from workflows import scoring
        scoring.check_admissible(ctx.session, ctx.settings, ref, reason)   # stage and state, before the card
        app = scoring.find_application(ctx.session, ctx.settings, ref)
        confirm.ask(ctx, "admit_below_gate", subject=f"application:{app.id}",
                    params={"application_id": app.id, "number": app.number, "reason": reason.strip()},
                    number=app.number, name=app.enterprise_name or "", reason=reason.strip(),
                    gate=ctx.settings.award.rules.material_gate)

    @router.confirmed("admit_below_gate")
    def on_admit_confirmed(ctx: Context, params: dict[str, Any]) -> None:
        from workflows import scoring
        scoring.admit_below_gate(ctx.session, ctx.settings, actor=ctx.userid, now=ctx.now, number=params["number"],
                                 reason=params["reason"])
        ctx.reply("committee.admitted", number=params["number"], reason=params["reason"],
                  gate=ctx.settings.award.rules.material_gate)
