"""The expert draw (§三(七) 从省政府质量奖评审专家库抽选): reproducible draw, pledges, reserves, the leader.

The pool and its checks are in workflows.scoring.pool (re-exported here).

The draw is reproducible from a published seed: every eligible entry is ranked by
HMAC-SHA256(key = seed, message = userid), both UTF-8, ascending hexadecimal digest (ties, which do not
happen in practice, by userid). The first `count` are the experts, the next `reserves` the reserves, in
that order. Excluded before ranking: an expert whose organisation is an applicant's enterprise, who
declared a conflict (the pool's `conflict` column or a 回避 recorded in this edition), or who is not an
active expert on the roster. `verify` re-derives the order from the pool and the recorded exclusions.

Each drawn expert is asked to accept the 承诺书 (confidentiality and impartiality) by card; until he
does, he is not assigned and sees no material (`require_pledged`). A decline asks the next reserve.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, notices, people
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from workflows.core.settings import Settings
from workflows.scoring.draw_models import ExpertDraw, PanelMember, PoolEntry
from workflows.scoring.pool import (  # noqa: F401  (re-exported: the draw's callers read the pool here too)
    COLUMNS,
    EXPERT_ROLES,
    LEADER,
    LIVE,
    OPTIONAL,
    UNREACHABLE,
    _norm,
    PoolProblem,
    digest,
    draw_key,
    exclusions,
    import_pool,
    leader_member,
    parse_pool,
    pool,
    rank,
    recorded,
)

SECRETARIAT = "secretariat"
SEED_MAX = 200


@dataclass(frozen=True)
class Verification:
    """What `verify` re-derived and whether it matches the recorded draw."""

    matches: bool
    pool_matches: bool
    seed_matches: bool
    recorded: list[str]
    derived: list[str]
    experts: list[str]
    reserves: list[str]
    number: int = 0          # 0: the draw; k: the k-th supplementary draw
    checked: bool = True     # False: no seed was given for this supplementary draw


@dataclass(frozen=True)
class PanelView:
    """The draw and its panel for display."""

    draw: ExpertDraw | None
    pool: int
    members: list[dict] = field(default_factory=list)
    leader: str | None = None


# -- the draw -----------------------------------------------------------------------------------------------

def _secretariat(session: Session) -> list[str]:
    return [p.userid for p in people.with_role(session, SECRETARIAT)]


def _names(session: Session, settings: Settings) -> dict[str, PoolEntry]:
    """The pool by draw key."""
    return {e.draw_key: e for e in pool(session, settings)}


def _on_roster(session: Session, settings: Settings, entry: PoolEntry) -> str | None:
    """The active roster expert this pool entry is: its userid, else the one expert of the same name and
    organisation who is not on the panel yet (a member the secretariat enrolled)."""
    if entry.userid:
        return entry.userid
    taken = {m.userid for m in members(session, settings) if m.userid}
    same = [p.userid for p in people.with_role(session, *EXPERT_ROLES) if p.userid not in taken
            and _norm(p.name) == _norm(entry.name) and _norm(p.organization) == _norm(entry.organization)]
    return same[0] if len(same) == 1 else None


def _call_up(session: Session, settings: Settings, member: PanelMember, now: dt.datetime) -> bool:
    """Ask a drawn expert for the pledge if he is reachable (on the roster); else mark him "drawn, not yet
    reachable" until the secretariat enrols him. True when he was asked."""
    if member.userid is None:
        entry = _names(session, settings).get(member.draw_key)
        member.userid = _on_roster(session, settings, entry) if entry is not None else None
    if member.userid is None:
        member.status, member.asked_at = UNREACHABLE, now
        return False
    ask_pledge(session, settings, member, now)
    return True


def _tell_unreachable(session: Session, settings: Settings, called: list[PanelMember], now: dt.datetime) -> None:
    """Tell the secretariat whom to enrol: the drawn experts not yet on the roster, with their contact."""
    names = _names(session, settings)
    waiting = [{"name": names[m.draw_key].name, "organization": names[m.draw_key].organization,
                "contact": names[m.draw_key].contact, "key": m.draw_key}
               for m in called if m.status == UNREACHABLE and m.draw_key in names]
    if waiting:
        notices.notify(session, _secretariat(session), "draw.unreachable", now=now, experts=waiting)


def ask_pledge(session: Session, settings: Settings, member: PanelMember, now: dt.datetime) -> None:
    """Ask a drawn expert (the next reserve, the engaged leader) to accept the 承诺书: its text, then the card."""
    member.status, member.asked_at = "asked", now
    entry = _names(session, settings).get(member.draw_key)
    person = people.get(session, member.userid)
    name = entry.name if entry else person.name if person else member.userid
    shown = {"name": name, "role": member.kind, "member_id": member.id}
    notices.notify(session, member.userid, "draw.pledge_text", now=now, **shown)
    notices.send_card(session, member.userid, "draw.pledge", subject=f"pledge:{member.id}", now=now, **shown)


@access.guarded("experts.draw")
def draw(session: Session, settings: Settings, *, actor: str, now: dt.datetime, count: int,
         seed: str) -> ExpertDraw:
    """Draw `count` experts and the configured reserves from the pool with the published seed; audited.

    Excluded entries are recorded with their reasons; each drawn expert is asked to accept the pledge, or, when
    he is not yet a roster member, listed for the secretariat to enrol (with his contact).
    """
    seed = seed.strip()
    if not seed or len(seed) > SEED_MAX:
        raise InvalidInput("draw_bad_seed", max=SEED_MAX)
    if recorded(session, settings) is not None:
        raise AlreadyDone("draw_already_made")
    if count < 1:
        raise InvalidInput("draw_bad_count", count=count)
    entries = pool(session, settings)
    if not entries:
        raise NotFound("draw_no_pool")
    excluded = exclusions(session, settings, entries)
    eligible = [e.draw_key for e in entries if e.draw_key not in excluded]
    if len(eligible) < count:
        raise InvalidInput("draw_not_enough", count=count, eligible=len(eligible), pool=len(entries))
    order = rank(seed, eligible)
    reserves = min(settings.award.rules.expert_reserves, len(order) - count)
    row = ExpertDraw(edition=settings.award.edition_key, seed=seed, count=count, reserves=reserves,
                     pool_digest=digest(entries),
                     excluded=[{"userid": u, "reasons": r} for u, r in sorted(excluded.items())],
                     order=order, drawn_by=actor, drawn_at=now)
    session.add(row)
    by_key = {e.draw_key: e for e in entries}
    members = [PanelMember(edition=row.edition, draw_key=k, userid=by_key[k].userid, position=i + 1,
                           kind="expert" if i < count else "reserve", status="waiting")
               for i, k in enumerate(order[:count + reserves])]
    session.add_all(members)
    session.flush()
    # The group's leader is engaged apart from the draw (workflows.scoring.leader): the draw never touches him;
    # a roster 组长 who was not engaged leads nothing.
    engaged = leader_of(session, settings)
    demoted = [p for p in people.with_role(session, "expert_leader") if p.userid != engaged]
    for p in demoted:
        p.role, p.updated_at = "expert", now
    audit.record(session, actor=actor, action="draw.make", subject=f"draw:{row.id}", now=now, seed=seed, count=count,
                 reserves=reserves, pool_digest=row.pool_digest, excluded=row.excluded,
                 experts=order[:count], reserve_list=order[count:count + reserves],
                 leader=engaged, leaders_not_engaged=[p.userid for p in demoted])
    for m in members[:count]:
        _call_up(session, settings, m, now)
    _tell_unreachable(session, settings, members[:count], now)
    return row


def verify(session: Session, settings: Settings, seed: str) -> Verification:
    """Re-derive the draw from the pool and the recorded exclusions with `seed`; compare with the record."""
    row = recorded(session, settings)
    if row is None:
        raise NotFound("draw_not_made")
    entries = pool(session, settings)
    excluded = {x["userid"] for x in row.excluded}
    derived = rank(seed.strip(), [e.draw_key for e in entries if e.draw_key not in excluded])
    pool_ok = digest(entries) == row.pool_digest
    matches = pool_ok and seed.strip() == row.seed and derived == list(row.order)   # same order, other seed: no
    return Verification(matches=matches, pool_matches=pool_ok, seed_matches=seed.strip() == row.seed,
                        recorded=list(row.order), derived=derived, experts=derived[:row.count],
                        reserves=derived[row.count:row.count + row.reserves])


# -- supplementary draws, when the reserves ran out ---------------------------------------------------------

def shortfall(session: Session, settings: Settings) -> int:
    """How many more experts the group needs: the drawn count less those asked or accepted (0 without a draw)."""
    row = recorded(session, settings)
    if row is None:
        return 0
    live = [m for m in members(session, settings) if m.kind != LEADER and m.status in (*LIVE, UNREACHABLE)]
    return max(0, row.count - len(live))


def supplement_offer(session: Session, settings: Settings) -> tuple[int, int]:
    """(the shortfall, how many a supplementary draw may draw now): 0 to draw while a reserve waits; never more
    than the pool has left (eligible and not on the panel) — what the status and the decline notice offer."""
    need = shortfall(session, settings)
    panel_rows = members(session, settings)
    if not need or any(m.status == "waiting" for m in panel_rows):
        return need, 0
    entries = pool(session, settings)
    excluded = exclusions(session, settings, entries)
    on_panel = {m.draw_key for m in panel_rows}
    left = len([e for e in entries if e.draw_key not in excluded and e.draw_key not in on_panel])
    return need, min(need, left)


@dataclass(frozen=True)
class SupplementPlan:
    """What a supplementary draw will draw from (read-only; `supplement` runs the same checks)."""

    row: ExpertDraw
    entries: list[PoolEntry]
    excluded: dict[str, list[str]]
    before: list[str]
    eligible: list[str]
    need: int


def check_supplement(session: Session, settings: Settings, count: int, seed: str) -> SupplementPlan:
    """Everything a supplementary draw checks: a draw was made, no reserve is left waiting, the group lacks
    experts, 1 ≤ count ≤ the shortfall, a new seed, and enough entries left in the pool."""
    seed = seed.strip()
    row = recorded(session, settings)
    if row is None:
        raise NotFound("draw_not_made")
    if not seed or len(seed) > SEED_MAX:
        raise InvalidInput("draw_bad_seed", max=SEED_MAX)
    panel_rows = members(session, settings)
    waiting = [m for m in panel_rows if m.status == "waiting"]
    if waiting:
        raise InvalidInput("supplement_reserves_left", reserves=len(waiting))
    need = shortfall(session, settings)
    if need == 0:
        raise AlreadyDone("supplement_not_needed", count=row.count)
    if count < 1 or count > need:
        raise InvalidInput("supplement_bad_count", count=count, need=need)
    if seed in [row.seed, *[x["seed"] for x in row.supplements or []]]:
        raise InvalidInput("supplement_seed_used", seed=seed)
    entries = pool(session, settings)
    excluded = exclusions(session, settings, entries)
    before = sorted(m.draw_key for m in panel_rows if m.draw_key)
    eligible = [e.draw_key for e in entries if e.draw_key not in excluded and e.draw_key not in set(before)]
    if len(eligible) < count:
        raise InvalidInput("supplement_not_enough", count=count, eligible=len(eligible), pool=len(entries))
    return SupplementPlan(row=row, entries=entries, excluded=excluded, before=before, eligible=eligible, need=need)


@access.guarded("experts.draw")
def supplement(session: Session, settings: Settings, *, actor: str, now: dt.datetime, count: int,
               seed: str) -> dict[str, Any]:
    """A supplementary draw: `count` experts from the pool left (not excluded, not yet on the panel), ranked
    with its own published seed exactly like the draw; recorded, audited; each drawn expert is asked to pledge."""
    seed = seed.strip()
    plan = check_supplement(session, settings, count, seed)
    row = plan.row
    order = rank(seed, plan.eligible)
    drawn = order[:count]
    record = {"number": len(row.supplements or []) + 1, "seed": seed, "count": count,
              "pool_digest": digest(plan.entries),
              "excluded": [{"userid": u, "reasons": r} for u, r in sorted(plan.excluded.items())],
              "before": plan.before, "order": order, "drawn": drawn, "drawn_by": actor, "drawn_at": now.isoformat()}
    row.supplements = [*(row.supplements or []), record]     # a new list: the JSON column is saved
    last = max((m.position for m in members(session, settings)), default=0)
    by_key = {e.draw_key: e for e in plan.entries}
    added = [PanelMember(edition=row.edition, draw_key=k, userid=by_key[k].userid, position=last + i + 1,
                         kind="supplement", status="waiting") for i, k in enumerate(drawn)]
    session.add_all(added)
    session.flush()
    audit.record(session, actor=actor, action="draw.supplement", subject=f"draw:{row.id}", now=now,
                 number=record["number"], seed=seed, count=count, pool_digest=record["pool_digest"],
                 excluded=record["excluded"], before=plan.before, order=order, drawn=drawn)
    for m in added:
        _call_up(session, settings, m, now)
    _tell_unreachable(session, settings, added, now)
    return record


def verify_supplement(session: Session, settings: Settings, number: int, seed: str) -> Verification:
    """Re-derive the `number`-th supplementary draw from the pool, its recorded exclusions and panel, and `seed`."""
    row = recorded(session, settings)
    if row is None:
        raise NotFound("draw_not_made")
    sups = list(row.supplements or [])
    if not 1 <= number <= len(sups):
        raise NotFound("supplement_unknown", number=number, made=len(sups))
    sup = sups[number - 1]
    entries = pool(session, settings)
    left_out = {x["userid"] for x in sup["excluded"]} | set(sup["before"])
    derived = rank(seed.strip(), [e.draw_key for e in entries if e.draw_key not in left_out])
    pool_ok = digest(entries) == sup["pool_digest"]
    return Verification(matches=pool_ok and seed.strip() == sup["seed"] and derived == list(sup["order"]),
                        pool_matches=pool_ok,
                        seed_matches=seed.strip() == sup["seed"], recorded=list(sup["order"]), derived=derived,
                        experts=derived[:sup["count"]], reserves=[], number=number)


def verify_all(session: Session, settings: Settings, seed: str, supplement_seeds: list[str]) -> list[Verification]:
    """The draw and every supplementary draw, each with its seed (in order); one without a seed is not checked."""
    result = [verify(session, settings, seed)]
    row = recorded(session, settings)
    for i, sup in enumerate(row.supplements or [], start=1):
        if i <= len(supplement_seeds):
            result.append(verify_supplement(session, settings, i, supplement_seeds[i - 1]))
        else:
            result.append(Verification(matches=False, pool_matches=True, seed_matches=False, recorded=list(sup["order"]),
                                       derived=[], experts=[], reserves=[], number=i, checked=False))
    return result


def members(session: Session, settings: Settings) -> list[PanelMember]:
    """The panel (drawn experts and reserves) by position."""
    return list(session.scalars(select(PanelMember).where(PanelMember.edition == settings.award.edition_key)
                                .order_by(PanelMember.position)))


def panel(session: Session, settings: Settings) -> PanelView:
    """The draw, the pool size and every panel member with name and status, for display."""
    row = recorded(session, settings)
    names = _names(session, settings)
    roster = {p.userid: p for p in people.with_role(session, *EXPERT_ROLES)}
    shown = [{"id": m.id, "userid": m.userid or "", "key": m.draw_key,
              "name": names[m.draw_key].name if m.draw_key in names else
              roster[m.userid].name if m.userid in roster else m.userid or m.draw_key,
              "organization": names[m.draw_key].organization if m.draw_key in names else
              roster[m.userid].organization or "" if m.userid in roster else "",
              "contact": names[m.draw_key].contact if m.draw_key in names else "",
              "position": m.position, "kind": m.kind, "status": m.status,
              "leader": m.kind == LEADER and m.status in LIVE} for m in members(session, settings)]
    return PanelView(draw=row, pool=len(names), members=shown, leader=leader_of(session, settings))


def leader_of(session: Session, settings: Settings) -> str | None:
    """The engaged leader's userid (asked or accepted), if any."""
    member = leader_member(session, settings)
    return member.userid if member is not None else None


def accepted(session: Session, settings: Settings) -> set[str] | None:
    """Userids of panel members who accepted the pledge; None when the edition has no draw."""
    if recorded(session, settings) is None:
        return None
    return set(session.scalars(select(PanelMember.userid).where(PanelMember.edition == settings.award.edition_key,
                                                               PanelMember.status == "accepted")))


def require_pledged(session: Session, settings: Settings, userid: str) -> None:
    """Refuse an expert who has not accepted the pledge (or was not drawn) once the edition has a draw."""
    member = pending_for(session, settings, userid)
    if recorded(session, settings) is None and (member is None or member.kind != LEADER):
        return      # without a draw the roster's experts review as before; an engaged leader pledges first
    if member is None or member.status not in LIVE:
        raise NotAllowed("not_drawn")
    if member.status != "accepted":
        raise NotAllowed("pledge_required")


def check_answerable(session: Session, settings: Settings, member_id: int, userid: str) -> PanelMember:
    """The panel member asked for the pledge, if it is `userid` and he has not answered; else refused."""
    member = session.get(PanelMember, member_id)
    if member is None or member.userid != userid or member.edition != settings.award.edition_key:
        raise NotFound("pledge_unknown")
    if member.status != "asked":
        raise AlreadyDone("pledge_answered", status=member.status)
    return member


def pending_for(session: Session, settings: Settings, userid: str) -> PanelMember | None:
    """The member's own panel row, if any."""
    return session.scalar(select(PanelMember).where(PanelMember.edition == settings.award.edition_key,
                                                    PanelMember.userid == userid))


def resend(session: Session, settings: Settings, userid: str, now: dt.datetime) -> PanelMember | None:
    """Send the pledge and its card again to a member who was asked and has not answered."""
    member = pending_for(session, settings, userid)
    if member is not None and member.status == "asked":
        ask_pledge(session, settings, member, now)
    return member


@access.guarded("experts.pledge")
def accept_pledge(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                  member_id: int) -> PanelMember:
    """The expert accepts the 承诺书: he may now be assigned and see materials; audited."""
    member = check_answerable(session, settings, member_id, actor)
    member.status, member.answered_at = "accepted", now
    audit.record(session, actor=actor, action="draw.pledge_accept", subject=f"panel:{member.id}", now=now,
                 kind=member.kind, position=member.position)
    row = recorded(session, settings)
    done = len([m for m in members(session, settings) if m.status == "accepted" and m.kind != LEADER])
    if row is not None and member.kind != LEADER and done >= row.count:
        notices.notify(session, _secretariat(session), "draw.panel_complete", now=now, count=done,
                       leader=leader_of(session, settings) or "")
    return member


@access.guarded("experts.pledge")
def decline(session: Session, settings: Settings, *, actor: str, now: dt.datetime, member_id: int,
            reason: str = "") -> PanelMember | None:
    """The expert declines: the next reserve is asked (returned; None when none is left); audited."""
    member = check_answerable(session, settings, member_id, actor)
    member.status, member.answered_at, member.reason = "declined", now, reason.strip()[:500]
    was_leader = member.kind == LEADER
    person = people.get(session, actor)
    if person is not None and person.role == "expert_leader":
        person.role, person.updated_at = "expert", now   # a leader who declines leads nothing
    # An engaged leader's place is no drawn place: the secretariat engages another, no reserve is asked.
    nxt = None if was_leader else session.scalar(select(PanelMember).where(
        PanelMember.edition == member.edition, PanelMember.status == "waiting").order_by(PanelMember.position).limit(1))
    if nxt is not None:
        _call_up(session, settings, nxt, now)
        _tell_unreachable(session, settings, [nxt], now)
    names = _names(session, settings)
    audit.record(session, actor=actor, action="draw.pledge_decline", subject=f"panel:{member.id}", now=now,
                 reason=member.reason, next_reserve=(nxt.userid or nxt.draw_key) if nxt else None)
    notices.notify(session, _secretariat(session), "draw.declined", now=now,
                   name=names[member.draw_key].name if member.draw_key in names else person.name if person else actor, reason=member.reason,
                   reserve=(names[nxt.draw_key].name if nxt.draw_key in names else nxt.userid or "") if nxt else "",
                   reserve_unreachable=nxt is not None and nxt.status == UNREACHABLE,
                   was_leader=was_leader,
                   need=supplement_offer(session, settings)[0] if nxt is None and not was_leader else 0,
                   can_draw=supplement_offer(session, settings)[1] if nxt is None and not was_leader else 0)
    return nxt
