"""Sample step "award": notice for the proposed winners, a complaint not upheld, approval (with its package),
announcement."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from workflows import publicity
from workflows.core import conversation, people, stages
from workflows.core.settings import Settings

from ..handlers import publicity as ph
from ..render import Renderer
from .base import ACTOR

COMPLAINANT = "gongzhong-sample"
WINDOW_PASSED = dt.timedelta(days=11)  # the sample's later actions happen after the 10-day window


def _secretary(session: Session) -> str:
    members = people.with_role(session, "secretariat")
    return members[0].userid if members else ACTOR


def to_award(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Publish, take and reject one complaint, then (11 days later) report, approve and announce."""
    renderer = Renderer(settings)
    actor = _secretary(session)
    pub = publicity.current(session, settings)
    if pub is None:
        # Only the committee's result can be published: the sample's vote step comes first. The notice starts
        # early enough for its whole window to end before the stage's deadline (seed §三(八)).
        room = dt.timedelta(days=settings.award.rules.publicity_days + 2)
        now = min(now, stages.deadline(session, settings, "publicity") - room)
        pub, _ = ph.start(session, settings, renderer, actor=actor, now=now)
        publicity.begin(session, settings, userid=COMPLAINANT, now=now)
        conv = conversation.current(session, COMPLAINANT)
        assert conv is not None
        publicity.choose_target(session, settings, conv, "1", now=now)
        publicity.set_content(session, settings, conv, "听说该企业去年有产品抽检不合格，是否仍符合申报条件？", now=now)
        publicity.evidence_done(session, settings, conv, now=now)
        publicity.set_name(session, settings, conv, "林晓", now=now)
        c = publicity.submit(session, settings, conv, "13800138000", now=now)
        publicity.conclude(session, settings, actor=actor, now=now + dt.timedelta(days=2), number=c.number or "",
                            upheld=False, findings="经查询市场监管部门抽检记录，该企业近三年产品抽检均合格。",
                            reason="反映的情况与抽检记录不符，投诉不成立。")
    later = max(now + WINDOW_PASSED, pub.end + dt.timedelta(hours=9))
    if pub.report_sent_at is None:
        ph.send_report(session, settings, renderer, actor=actor, now=later)
    # The notice is over; the city's approval is recorded as of the award stage's opening (the package of record
    # then describes the stages as they stay: nothing of the sample changes them after the approval).
    for key in ("publicity", "approval"):
        if stages.status(session, settings, key) != "closed":
            stages.close_stage(session, settings, key, actor=ACTOR, now=later)
    if stages.status(session, settings, "award") == "pending":
        stages.open_stage(session, settings, "award", actor=ACTOR, now=later)
    if publicity.current_approval(session, settings) is None:
        ph.record_approval(session, settings, renderer, actor=actor, now=later,
                           approved_on=later.astimezone(settings.award.tz).date(),
                           document_number="韶府函〔示例〕1号", approved=list(pub.winners))
    approval = publicity.current_approval(session, settings)
    if approval is not None and approval.announced_at is None:
        ph.announce(session, settings, renderer, actor=actor, now=later)
