"""§五(三) "参与推荐和评审的人员…保守秘密": the confidentiality pledge of everyone who takes part.

Drawn experts and the engaged leader sign theirs through the draw (workflows.scoring.draw). Recommending units'
contacts, committee members (the chair too) and the agency's members — the roles in `[award.pledges] roles` — sign
this one: its text and a card, **once per edition**, asked by the secretariat (`ask_all`, also run after a roster
import) or on their first attempt to act. Until a member accepted it, every guarded verb refuses him
(`access.require_pledged`, `confidentiality_required`): he sees and does nothing of the edition. Audited.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, notices, people
from workflows.core.errors import AlreadyDone, NotFound
from workflows.core.models import ConfidentialityPledge
from workflows.core.settings import Settings

CARD = "pledges.confidentiality"


def of(session: Session, settings: Settings, userid: str) -> ConfidentialityPledge | None:
    """The member's pledge of this edition, if he was asked."""
    return session.scalar(select(ConfidentialityPledge).where(
        ConfidentialityPledge.edition == settings.award.edition_key, ConfidentialityPledge.userid == userid))


def unsigned(session: Session, settings: Settings, userid: str, role: str) -> bool:
    """Whether this member's role signs the pledge and he has not accepted it this edition."""
    if role not in settings.award.pledges.roles:
        return False
    row = of(session, settings, userid)
    return row is None or row.status != "accepted"


def signers(session: Session, settings: Settings) -> list:
    """The active members whose role signs the pledge."""
    return people.with_role(session, *settings.award.pledges.roles)


def ask(session: Session, settings: Settings, userid: str, now: dt.datetime, *, again: bool = False) -> bool:
    """Send the pledge text and card to one member who signs it, once per edition (`again`: resend an
    unanswered one). True when sent."""
    person = people.get(session, userid)
    if person is None or person.role not in settings.award.pledges.roles:
        return False
    row = of(session, settings, userid)
    if row is not None and (row.status == "accepted" or not again):
        return False
    if row is None:
        row = ConfidentialityPledge(edition=settings.award.edition_key, userid=userid, role=person.role,
                                    status="asked", asked_at=now)
        session.add(row)
        session.flush()
    shown = {"name": person.name, "role": person.role, "pledge_id": row.id}
    notices.notify(session, userid, "pledges.text", now=now, **shown)
    notices.send_card(session, userid, CARD, subject=f"confidentiality:{row.id}", now=now, **shown)
    return True


@access.guarded("pledges.ask")
def ask_all(session: Session, settings: Settings, *, actor: str, now: dt.datetime) -> list[str]:
    """Ask every member who signs and was not asked yet this edition; audited. The userids asked."""
    asked = [p.userid for p in signers(session, settings) if ask(session, settings, p.userid, now)]
    if asked:
        audit.record(session, actor=actor, action="pledges.ask", subject=f"edition:{settings.award.edition_key}",
                     now=now, asked=asked)
    return asked


@access.guarded("pledges.accept")
def accept(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
           pledge_id: int | None = None) -> ConfidentialityPledge:
    """The member accepts his confidentiality pledge (from the card, or `保密承诺 接受`); audited."""
    row = of(session, settings, actor)
    if row is None or (pledge_id is not None and row.id != pledge_id):
        raise NotFound("confidentiality_unknown")
    if row.status == "accepted":
        raise AlreadyDone("confidentiality_accepted")
    row.status, row.answered_at = "accepted", now
    audit.record(session, actor=actor, action="pledges.accept", subject=f"confidentiality:{row.id}", now=now,
                 role=row.role)
    return row


def outstanding(session: Session, settings: Settings) -> list[tuple[str, str, str]]:
    """(userid, name, state) of every member who signs and has not accepted: `not asked` or `asked`."""
    out = []
    for p in signers(session, settings):
        row = of(session, settings, p.userid)
        if row is None or row.status != "accepted":
            out.append((p.userid, p.name, "asked" if row is not None else "not asked"))
    return out
