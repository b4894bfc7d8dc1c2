"""The expert group's leader (组长), engaged by the secretariat apart from the draw.

§三(七) "聘请1名国内、省内权威质量管理专家任组长，并从省政府质量奖评审专家库抽选专家组成专家组": the leader is
*engaged*, the experts are *drawn*. `engage` records the engagement (who, on what basis — e.g. the 聘书 — by
whom, when) as the leader's panel row (kind `leader`, position 0), gives him the roster role `expert_leader`,
audits it and asks him for the 承诺书 like a drawn expert; until he accepts he sees nothing. He may be engaged
before or after the draw; the draw never draws him (`engaged_leader`) and never demotes him. Engaging another
leader replaces the first (his row becomes `replaced`, his role `expert`). A leader who declines leads nothing;
the secretariat engages another (no reserve is asked: his is no drawn place).
"""
from __future__ import annotations

import datetime as dt
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, notices, people
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.core.models import Person
from workflows.core.settings import Settings
from workflows.scoring import draw
from workflows.scoring.draw_models import PanelMember

BASIS_MAX = 200


def _norm(value: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", value or "").split()).casefold()


def find_person(session: Session, who: str) -> Person:
    """The active roster expert named by userid, or by name when exactly one active member bears it."""
    who = who.strip()
    person = people.get(session, who) if who else None
    if person is None and who:
        named = [p for p in session.scalars(select(Person).where(Person.active.is_(True))) if _norm(p.name) == _norm(who)]
        person = named[0] if len(named) == 1 else None
        if len(named) > 1:
            raise InvalidInput("leader_ambiguous", who=who, userids=[p.userid for p in named])
    if person is None:
        raise NotFound("leader_unknown", userid=who)
    if person.role not in draw.EXPERT_ROLES:
        raise InvalidInput("leader_not_expert", who=who, role=person.role)
    return person


def check_engage(session: Session, settings: Settings, who: str, basis: str = "") -> Person:
    """Every check `engage` makes, read-only (chat asks for confirmation only when it will be accepted)."""
    if len(basis.strip()) > BASIS_MAX:
        raise InvalidInput("leader_basis_too_long", max=BASIS_MAX)
    person = find_person(session, who)
    current = draw.leader_member(session, settings)
    if current is not None and current.userid == person.userid:
        raise AlreadyDone("leader_already_engaged", expert=person.name)
    own = draw.pending_for(session, settings, person.userid)
    if own is not None and own.kind != draw.LEADER and own.status != "declined":
        raise InvalidInput("leader_is_drawn", expert=person.name)
    return person


@access.guarded("experts.leader")
def engage(session: Session, settings: Settings, *, actor: str, now: dt.datetime, who: str,
           basis: str = "") -> Person:
    """Engage the one 组长 (by userid or unique name) apart from the draw; recorded, audited, asked to pledge."""
    person = check_engage(session, settings, who, basis)
    edition = settings.award.edition_key
    previous = draw.leader_member(session, settings)
    if previous is not None:
        previous.status, previous.answered_at = "replaced", previous.answered_at or now
    demoted = [p for p in people.with_role(session, "expert_leader") if p.userid != person.userid]
    for p in demoted:
        p.role, p.updated_at = "expert", now
    person.role, person.updated_at = "expert_leader", now
    member = draw.pending_for(session, settings, person.userid)
    if member is None:
        member = PanelMember(edition=edition, userid=person.userid, position=0, kind=draw.LEADER, status="waiting")
        session.add(member)
    member.kind, member.position, member.basis = draw.LEADER, 0, basis.strip()
    member.answered_at, member.reason = None, ""
    member.engaged_by, member.engaged_at = actor, now
    session.flush()
    audit.record(session, actor=actor, action="draw.leader", subject=f"panel:{member.id}", now=now,
                 leader=person.userid, basis=member.basis, previous=previous.userid if previous else None,
                 demoted=[p.userid for p in demoted])
    notices.notify(session, person.userid, "draw.leader_appointed", now=now, name=person.name)
    draw.ask_pledge(session, settings, member, now)
    return person
