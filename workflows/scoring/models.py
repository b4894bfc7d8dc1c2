"""Expert review tables: assignments, conflict declarations, score sheets, consensus, shortlists, reports."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflows.apply.models import of_application
from workflows.core.base import Base
from workflows.core.models import MEMBER_ID_MAX


class AssignmentProposal(Base):
    """A proposed expert assignment for one phase, waiting for the secretariat to confirm or edit it."""

    __tablename__ = "assignment_proposal"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(16))
    assignments: Mapped[dict[str, Any]] = mapped_column(default=dict)   # application id (str) -> [userid]
    problems: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | confirmed | superseded
    created_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    created_at: Mapped[dt.datetime]
    confirmed_by: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))
    confirmed_at: Mapped[dt.datetime | None]


class Assignment(Base):
    """One expert assigned to score one application in one phase (material or site)."""

    __tablename__ = "expert_assignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    phase: Mapped[str] = mapped_column(String(16), index=True)
    application_id: Mapped[int] = mapped_column(index=True)
    expert: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    assigned_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    assigned_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("phase", "application_id", "expert"), of_application())


class ConflictDeclaration(Base):
    """An expert's declared conflict of interest (回避) with an application."""

    __tablename__ = "conflict_declaration"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    expert: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    application_id: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("expert", "application_id"), of_application())


class InterestDeclaration(Base):
    """An expert's conflict-of-interest declaration (利益冲突声明) for an application assigned to him, made before
    its files open: `none` (no employment, consulting, supplier or customer relation in the lookback years, no
    family tie) or `conflict` with a reason code (the 回避 itself is the ConflictDeclaration beside it)."""

    __tablename__ = "interest_declaration"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    expert: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    application_id: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(16))                 # none | conflict
    code: Mapped[str] = mapped_column(String(16), default="")        # conflict: employment | consulting | ...
    note: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("expert", "application_id"), of_application())


class ScoreSheet(Base):
    """One expert's score sheet for one application in one phase; locked once confirmed."""

    __tablename__ = "score_sheet"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    phase: Mapped[str] = mapped_column(String(16), index=True)
    application_id: Mapped[int] = mapped_column(index=True)
    expert: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | confirmed
    percentages: Mapped[dict[str, Any]] = mapped_column(default=dict)  # item key -> int percent
    comments: Mapped[dict[str, Any]] = mapped_column(default=dict)     # item (or category) key -> {strengths, opportunities}
    reasons: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")  # item key -> why a score lies far from the others'
    total: Mapped[str | None] = mapped_column(String(24))              # exact decimal text, set on confirm
    source: Mapped[str] = mapped_column(String(16), default="chat")    # chat | paper
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    confirmed_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("phase", "application_id", "expert"), of_application())


class Consensus(Base):
    """The score the expert group agreed on after a disagreement, recorded by the leader."""

    __tablename__ = "score_consensus"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    phase: Mapped[str] = mapped_column(String(16))
    application_id: Mapped[int]
    value: Mapped[str] = mapped_column(String(24))  # exact decimal text
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    recorded_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("phase", "application_id"), of_application())


class ItemConsensus(Base):
    """The expert group's agreed result for one GB/T 19580 item of one application (issue 25.2), recorded by the
    leader: the agreed percentage, the agreed strengths and opportunities, and the reason for the change from the
    individual scores. The application's consensus total is the sum over items (workflows.scoring.consensus)."""

    __tablename__ = "item_consensus"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    phase: Mapped[str] = mapped_column(String(16))
    application_id: Mapped[int]
    item_key: Mapped[str] = mapped_column(String(16))
    percent: Mapped[int]
    strengths: Mapped[str] = mapped_column(Text, default="")
    opportunities: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    recorded_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("phase", "application_id", "item_key"), of_application())


class Shortlist(Base):
    """Applications going on: 'site' (site-visit candidates) or 'vote' (the committee's top N)."""

    __tablename__ = "shortlist"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    application_id: Mapped[int]
    position: Mapped[int]
    score: Mapped[str] = mapped_column(String(24))
    decided_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    decided_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("edition", "kind", "application_id"), of_application())


class ReportConfirmation(Base):
    """The expert-group leader's confirmation of a phase's report."""

    __tablename__ = "report_confirmation"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(16))
    confirmed_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    confirmed_at: Mapped[dt.datetime]
    digest: Mapped[str] = mapped_column(String(64))  # what was confirmed: hash of the ranking shown

    __table_args__ = (UniqueConstraint("edition", "phase"),)


class SiteIssue(Base):
    """An issue to verify on site for one applicant (issue 25.3): the GB/T 19580 item, what to verify, whom to ask
    and which documents to see; listed by the group leader (or the secretariat) from the material consensus."""

    __tablename__ = "site_issue"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    application_id: Mapped[int] = mapped_column(index=True)
    position: Mapped[int]                                   # 序号 within the applicant's worksheet (1, 2, …)
    item_key: Mapped[str] = mapped_column(String(16))
    verify: Mapped[str] = mapped_column(Text)               # 核实内容
    ask: Mapped[str] = mapped_column(Text, default="")      # 询问对象
    documents: Mapped[str] = mapped_column(Text, default="")  # 查阅文件
    added_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    added_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("application_id", "position"), of_application())


class SiteFinding(Base):
    """A finding on one site issue: an expert's own, or the group's (recorded by the leader); whether the issue was
    verified, partly verified or not, the adjustment to the item in percentage points, and its reason."""

    __tablename__ = "site_finding"
    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("site_issue.id"), index=True)
    recorded_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    by_group: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str] = mapped_column(String(16))        # verified | partly | not_verified
    adjustment: Mapped[int] = mapped_column(default=0)      # percentage points for the issue's item (−100…100)
    finding: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("issue_id", "recorded_by", "by_group"),)
