"""Stage 2 (第一次评审委员会会议): the committee's 议事规则 and its own decisions. See docs/committee.md.

`rules` records the first meeting and the vote rules it adopts (config gives the defaults, the recorded
rules win); `admission` records the committee's 破格 admission of a candidate below the material gate.
The vote (workflows.voting) and the scoring gate (workflows.scoring.results) read them.
"""
from workflows.committee.admission import admit, admitted_ids, admissions
from workflows.committee.appointments import appoint, appointments, composition
from workflows.committee.models import CommitteeAppointment, CommitteeMeeting, GateAdmission, VoteRulesRecord
from workflows.committee.rules import (
    CONFLICT_POLICIES,
    VoteRules,
    effective,
    latest_meeting,
    record_meeting,
    rules_data,
)

__all__ = [
    "CONFLICT_POLICIES", "CommitteeAppointment", "CommitteeMeeting", "appoint", "appointments", "composition", "GateAdmission", "VoteRules", "VoteRulesRecord", "admissions",
    "admit", "admitted_ids", "effective", "latest_meeting", "record_meeting", "rules_data",
]
