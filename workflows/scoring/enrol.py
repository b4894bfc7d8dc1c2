"""Drawn experts who are not yet WeCom members: enrolment, then the pledge.

The province's pool lists experts, not WeCom members (workflows.scoring.pool). A drawn expert (or a reserve
called up) whose line names no roster userid, and who is not on the roster under the same name and organisation,
is "drawn, not yet reachable" (`unreachable`): the secretariat is sent his name, organisation and contact,
enrols him in WeCom (roster import, or a linked corp's member), and links him — `enrol` by hand, or `link_roster`
after a roster import, which links every unreachable expert whom exactly one new roster expert matches by name
and organisation. Once linked he is asked for the 承诺书 like any drawn expert. The draw's order never depends on
it: the draw ranks the pool file's keys.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from workflows.core import access, audit, people
from workflows.core.errors import AlreadyDone, NotFound
from workflows.core.models import Person
from workflows.core.settings import Settings
from workflows.scoring import draw
from workflows.scoring.draw_models import PanelMember


def unreachable(session: Session, settings: Settings) -> list[PanelMember]:
    """The drawn experts (and reserves called up) not yet enrolled, by position."""
    return [m for m in draw.members(session, settings) if m.status == draw.UNREACHABLE]


def find_drawn(session: Session, settings: Settings, who: str) -> PanelMember:
    """The panel row of a drawn expert not yet enrolled, by draw key or by the pool's name (unique)."""
    who = who.strip()
    names = draw._names(session, settings)
    rows = [m for m in draw.members(session, settings) if m.userid is None and m.kind != draw.LEADER]
    found = [m for m in rows if m.draw_key == who] or [
        m for m in rows if m.draw_key in names and draw._norm(names[m.draw_key].name) == draw._norm(who)]
    if len(found) != 1:
        raise NotFound("enrol_unknown", what=who, candidates=[names[m.draw_key].name for m in rows
                                                            if m.draw_key in names])
    return found[0]


def check_enrol(session: Session, settings: Settings, who: str, userid: str) -> tuple[PanelMember, Person]:
    """Every check `enrol` makes, read-only."""
    if draw.recorded(session, settings) is None:
        raise NotFound("draw_not_made")
    member = find_drawn(session, settings, who)
    person = people.get(session, userid.strip())
    if person is None or person.role not in draw.EXPERT_ROLES:
        raise NotFound("enrol_not_expert", userid=userid)
    if draw.pending_for(session, settings, person.userid) is not None:
        raise AlreadyDone("enrol_already_on_panel", userid=person.userid)
    return member, person


def _link(session: Session, settings: Settings, member: PanelMember, person: Person, *, actor: str,
          now: dt.datetime, how: str) -> None:
    member.userid = person.userid
    audit.record(session, actor=actor, action="draw.enrol", subject=f"panel:{member.id}", now=now,
                 key=member.draw_key, userid=person.userid, how=how, status=member.status)
    if member.status == draw.UNREACHABLE:
        draw.ask_pledge(session, settings, member, now)


@access.guarded("experts.enrol")
def enrol(session: Session, settings: Settings, *, actor: str, now: dt.datetime, who: str,
          userid: str) -> PanelMember:
    """Link a drawn expert (draw key or pool name) to his roster userid; if he was called up, ask for the pledge."""
    member, person = check_enrol(session, settings, who, userid)
    _link(session, settings, member, person, actor=actor, now=now, how="by hand")
    return member


@access.guarded("experts.enrol")
def link_roster(session: Session, settings: Settings, *, actor: str, now: dt.datetime) -> list[PanelMember]:
    """After a roster import: link every drawn expert not yet enrolled whom exactly one roster expert (not on the
    panel) matches by name and organisation; those called up are asked for the pledge. Returns those linked."""
    if draw.recorded(session, settings) is None:
        return []
    names = draw._names(session, settings)
    linked = []
    for member in [m for m in draw.members(session, settings) if m.userid is None and m.kind != draw.LEADER]:
        entry = names.get(member.draw_key)
        userid = draw._on_roster(session, settings, entry) if entry is not None else None
        if userid is not None:
            _link(session, settings, member, session.get(Person, userid), actor=actor, now=now, how="roster match")
            linked.append(member)
    return linked

