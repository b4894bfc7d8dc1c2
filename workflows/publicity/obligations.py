"""Reminder providers of stages 8–9: the secretariat owes the verification report and the city's approval."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy.orm import Session

from workflows.core.reminders import Obligation, milestone
from workflows.core.settings import Settings
from workflows.publicity.award import current_approval
from workflows.publicity.record import current


def report_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """The secretariat, until the written verification report went to the committee (by the notice's deadline)."""
    pub = current(session, settings)
    if pub is None or pub.report_sent_at is None:
        yield from milestone(session, settings, "publicity", "verification_report")


def approval_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """The secretariat, until the city's approval is recorded (by the approval stage's deadline)."""
    if current_approval(session, settings) is None:
        yield from milestone(session, settings, "approval", "approval")
