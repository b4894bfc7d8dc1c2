"""Stages 1–2 (the city's approval of the 实施方案; 第一次评审委员会会议): the plan's approval, the committee's
议事规则 and its own decisions. See docs/committee.md.

`rules` records the first meeting and the vote rules it adopts (config gives the defaults, the recorded
rules win); `admission` records the committee's 破格 admission of a candidate below the material gate.
The vote (workflows.voting) and the scoring gate (workflows.scoring.results) read them.
"""
from workflows.committee import admission
from workflows.committee.admission import admitted_ids, admissions
from workflows.committee.appointments import appoint, appointments, composition
from workflows.committee.models import CommitteeAppointment, CommitteeMeeting, GateAdmission, PlanApproval, VoteRulesRecord
from workflows.committee.plan import plan_approval, plan_data, record_plan_approval
from workflows.committee.rules import (
    CONFLICT_POLICIES,
    SHORTFALLS,
    VoteRules,
    effective,
    latest_meeting,
    record_meeting,
    rules_data,
)

__all__ = [
    "CONFLICT_POLICIES", "SHORTFALLS", "CommitteeAppointment", "CommitteeMeeting", "GateAdmission", "PlanApproval",
    "VoteRules", "VoteRulesRecord", "admission", "admissions", "admitted_ids", "appoint", "appointments", "composition",
    "effective", "latest_meeting", "plan_approval", "plan_data", "record_meeting", "record_plan_approval", "rules_data",
]
