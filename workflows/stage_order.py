"""The seed's order of the stages (§三 实施步骤): what must come first before a stage opens or closes, and what
the operator is warned of before confirming.

Composed above the stage packages (it reads the plan's approval, the 议事规则, the vote, the notice and the
approval). `check(...)` answers without changing anything: the *blockers* (a rule of the seed says no: the call
before the city approved the plan, the vote before the 议事规则, the notice without the committee's result, the
approval before the notice is over, the award before the city's approval) and the *warnings* (allowed once the
operator confirmed: an earlier stage never opened, before the planned start, a deadline already passed, a stage
closed before its deadline). `open_stage` / `close_stage` refuse on a blocker (`InvalidInput("stage_order_blocked")`)
and otherwise do what `workflows.core.stages` does; who is told is the stage's own business (`stage.opened`),
previewed by the command line in a transaction it rolls back.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from workflows import committee
from workflows.core import access, stages
from workflows.core.errors import DomainError, InvalidInput
from workflows.core.models import StageState
from workflows.core.settings import STAGE_KEYS, Settings
from workflows.publicity import award as publicity_award
from workflows.publicity import notice as publicity_notice
from workflows.publicity import record as publicity_record
from workflows.publicity import window as publicity_window

ACTIONS = ("open", "close")


@dataclass
class StagePlan:
    """What opening or closing `stage` meets: blockers refuse it, warnings need the operator's confirmation."""

    stage: str
    action: str
    status: str
    blockers: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        """Whether the action changes anything (opening an open stage, closing a closed one does not)."""
        return not ((self.action == "open" and self.status == "open")
                    or (self.action == "close" and self.status == "closed"))


def _reason(code: str, **data: Any) -> dict[str, Any]:
    return {"code": code, **data}


def _name(settings: Settings, key: str) -> str:
    return settings.award.stage(key).name


def _notice_over(session: Session, settings: Settings, now: dt.datetime) -> dict[str, Any] | None:
    """The blocker that the public notice has not started or is still running, else None."""
    pub = publicity_record.current(session, settings)
    if pub is None:
        return _reason("notice_not_started")
    if publicity_window.state(publicity_record.window_of(pub), now) is not publicity_window.WindowState.CLOSED:
        return _reason("notice_running", last_day=pub.last_day)
    return None


def _open_blockers(session: Session, settings: Settings, stage: str, now: dt.datetime) -> list[dict[str, Any]]:
    """The seed's substantive prerequisites of opening `stage`."""
    found: list[dict[str, Any]] = []
    if stage == "call" and committee.plan_approval(session, settings) is None:
        found.append(_reason("plan_not_approved"))
    elif stage == "vote" and committee.latest_meeting(session, settings) is None:
        found.append(_reason("rules_not_recorded"))
    elif stage == "publicity":
        try:
            publicity_notice.proposed(session, settings)
        except DomainError:
            found.append(_reason("no_vote_result"))
    elif stage == "approval":
        found += [r for r in [_notice_over(session, settings, now)] if r]
    elif stage == "award" and publicity_award.current_approval(session, settings) is None:
        found.append(_reason("not_approved"))
    return found


def _close_blockers(session: Session, settings: Settings, stage: str, now: dt.datetime) -> list[dict[str, Any]]:
    """What must be done before `stage` may close (never for a stage that never opened: that is a skip)."""
    found: list[dict[str, Any]] = []
    if stages.status(session, settings, stage) == "pending":
        return found
    if stage == "publicity":
        pub = publicity_record.current(session, settings)
        if pub is not None:
            found += [r for r in [_notice_over(session, settings, now)] if r]
    elif stage == "approval" and publicity_award.current_approval(session, settings) is None:
        found.append(_reason("not_approved"))
    return found


def check(session: Session, settings: Settings, stage: str, action: str, *, now: dt.datetime) -> StagePlan:
    """What opening or closing `stage` at `now` meets (nothing is changed)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
    status = stages.status(session, settings, stage)   # an unknown stage is refused here
    plan = StagePlan(stage=stage, action=action, status=status)
    if not plan.changes:
        return plan
    deadline = stages.deadline(session, settings, stage)
    earlier = list(STAGE_KEYS[: STAGE_KEYS.index(stage)])
    if action == "open":
        plan.blockers = _open_blockers(session, settings, stage, now)
        pending = [k for k in earlier if stages.status(session, settings, k) == "pending"]
        if pending:
            plan.warnings.append(_reason("earlier_pending", stages=[_name(settings, k) for k in pending]))
        if now > deadline:
            plan.warnings.append(_reason("deadline_passed", deadline=deadline.isoformat()))
        start = settings.award.stage(stage).start
        if start is not None and now < start:
            plan.warnings.append(_reason("before_start", start=start.isoformat()))
        if status == "closed":
            plan.warnings.append(_reason("reopening"))
    else:
        plan.blockers = _close_blockers(session, settings, stage, now)
        if status == "pending":
            plan.warnings.append(_reason("never_opened"))
        elif now < deadline:
            plan.warnings.append(_reason("before_deadline", deadline=deadline.isoformat()))
        still_open = [k for k in earlier if stages.status(session, settings, k) == "open"]
        if still_open:
            plan.warnings.append(_reason("earlier_open", stages=[_name(settings, k) for k in still_open]))
    return plan


def _refuse(settings: Settings, plan: StagePlan) -> None:
    if plan.blockers:
        raise InvalidInput("stage_order_blocked", stage=plan.stage, stage_name=_name(settings, plan.stage),
                           action=plan.action, reasons=plan.blockers)


@access.guarded("stage.open")
def open_stage(session: Session, settings: Settings, stage: str, *, actor: str, now: dt.datetime) -> StageState:
    """Open `stage` unless the seed's order forbids it now (warnings are the caller's to confirm)."""
    _refuse(settings, check(session, settings, stage, "open", now=now))
    return stages.open_stage(session, settings, stage, actor=actor, now=now)


@access.guarded("stage.close")
def close_stage(session: Session, settings: Settings, stage: str, *, actor: str, now: dt.datetime) -> StageState:
    """Close `stage` unless what must happen in it first has not (warnings are the caller's to confirm)."""
    _refuse(settings, check(session, settings, stage, "close", now=now))
    return stages.close_stage(session, settings, stage, actor=actor, now=now)
