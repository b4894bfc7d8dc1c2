"""Sample edition: the committee votes on the top 5 and proposes 3 winners; publicity opens."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import committee
from workflows.core import people, stages
from workflows import voting
from workflows.voting.models import Participation
from workflows.core.settings import Settings

from .base import ACTOR

# Positions (in composite order) each member ticks: counts 7, 6, 4, 3, 1 — three clear winners, no tie.
PATTERN = [(0, 1, 2), (0, 1, 2), (0, 1, 2), (0, 1, 2), (0, 1, 3), (0, 1, 3), (0, 3, 4)]


def committee_vote(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Open the ballot on the final top candidates, have every member vote, close it, open publicity."""
    stages.open_stage(session, settings, "vote", actor=ACTOR, now=now)
    if not committee.appointments(session, settings):
        # §五(一): the city appointed the committee, the 分管副市长 as its chair (the demo's documents are examples).
        for p in people.with_role(session, "committee_chair", "committee"):
            office = settings.award.committee.chair_office if p.role == "committee_chair" else "评审委员会委员"
            committee.appoint(session, settings, actor=ACTOR, now=now, who=p.userid, office=office,
                              document="韶府办函〔2018〕56号（示例）", effective_from=dt.date(2018, 9, 1))
    if committee.latest_meeting(session, settings) is None:
        # The first committee meeting (stage 2) adopted the 议事规则: here the configured defaults.
        members = [p.name or p.userid for p in people.with_role(session, "committee", "committee_chair")]
        committee.record_meeting(session, settings, actor=ACTOR, now=now,
                                 held_on=now.astimezone(settings.award.tz).date(), attendees=members,
                                 decisions="审议通过评审委员会议事规则（示例）：按配置的投票规则进行无记名投票。")
    candidates = voting.final_candidates(session, settings)  # the ranking flow's final top
    if settings.award.pledges.committee_declarations:         # §五(三): each member declares, here no conflict
        from workflows.voting import declarations
        for member in people.with_role(session, "committee", "committee_chair"):
            declarations.declare(session, settings, actor=member.userid, now=now)
    closes_at = max(stages.deadline(session, settings, "vote"), now + dt.timedelta(hours=1))
    ballot = voting.open_ballot(session, settings, actor=ACTOR, now=now, candidates=candidates, closes_at=closes_at)
    parts = session.scalars(select(Participation).where(Participation.ballot_id == ballot.id,
                                                        Participation.recused.is_(False))
                            .order_by(Participation.member))
    for i, part in enumerate(parts):
        picks = PATTERN[i % len(PATTERN)]
        # Through the same service a card submission uses (no response code: no card update to send).
        chosen = [part.offered[p] for p in picks if p < len(part.offered)][: part.required]
        voting.cast_ballot(session, settings, actor=part.member, now=now, ballot_id=ballot.id,
                           task_id=part.task_id or "", selected={voting.question_key(ballot.id): chosen})
    voting.close_ballot(session, settings, actor=ACTOR, now=now)
    stages.close_stage(session, settings, "vote", actor=ACTOR, now=now)
    stages.open_stage(session, settings, "publicity", actor=ACTOR, now=now)
