"""Broadcasts: a notice from the secretariat to a filtered group, through the outbox, with delivery per member.

An audience is one of `AUDIENCES` (applicants, optionally of one county and in one state; the site-visit or vote
candidates; the drawn experts, or those who have not answered the 承诺书; the committee; the recommending units),
read at the moment of sending. The verb records the broadcast and one row per recipient pointing at the outbox
row that carries it, so the workbench shows each member's delivery (queued, sent, failed) as the sender records
it; the audit holds who sent what to how many. Composes the stages (it reads applications, shortlists and the
panel), so no stage imports it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply.models import AppStatus, Application
from workflows.core import access, audit, notices
from workflows.core.broadcast_models import Broadcast, BroadcastRecipient
from workflows.core.errors import InvalidInput, NotFound
from workflows.core.models import OutboxMessage, Person
from workflows.core.settings import Settings
from workflows.scoring.draw_models import PanelMember
from workflows.scoring.models import Shortlist

AUDIENCES = ("applicants", "site", "finalists", "experts", "experts_unpledged", "committee", "recommenders")
# The application states a clerk filters applicants by (drafts are enterprises that started and not submitted).
APPLICANT_STATES = tuple(s.value for s in AppStatus)
TITLE_MAX, BODY_MAX = 40, 1000          # characters; a text message carries 2,048 bytes (longer is split)
KIND = "broadcast.notice"
# The outbox's states as the workbench shows a delivery.
DELIVERY = {"pending": "queued", "sending": "queued", "sent": "sent", "failed": "failed", "dead": "failed"}


@dataclass(frozen=True)
class Recipient:
    userid: str
    label: str        # the enterprise or the member's name, as the clerk reads it


def _clean(text: str | None) -> str:
    return "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")).strip()


def check(settings: Settings, audience: str, *, region: str = "", status: str = "", title: str = "",
          body: str = "", require_text: bool = True) -> tuple[str, str]:
    """The cleaned (title, body); InvalidInput naming what is wrong (nothing is queued then)."""
    if audience not in AUDIENCES:
        raise InvalidInput("broadcast_bad_audience", audience=audience[:40])
    if region and region not in {r.code for r in settings.award.regions}:
        raise InvalidInput("broadcast_bad_region", region=region[:20],
                           regions=[f"{r.code} {r.name}" for r in settings.award.regions])
    if status and status not in APPLICANT_STATES:
        raise InvalidInput("broadcast_bad_status", status=status[:20])
    if (region or status) and audience != "applicants":
        raise InvalidInput("broadcast_filter_not_applicants")
    title, body = _clean(title), _clean(body)
    if require_text and (not title or not body or len(title) > TITLE_MAX or len(body) > BODY_MAX
                         or "\n" in title):
        raise InvalidInput("broadcast_bad_text", title_max=TITLE_MAX, body_max=BODY_MAX, title_len=len(title),
                           body_len=len(body))
    return title, body


def recipients(session: Session, settings: Settings, audience: str, *, region: str = "",
               status: str = "") -> list[Recipient]:
    """Who the audience is now, each member once, in a stable order."""
    check(settings, audience, region=region, status=status, require_text=False)
    edition = settings.award.edition_key
    found: list[Recipient] = []
    if audience == "applicants":
        q = select(Application.applicant, Application.enterprise_name, Application.number).where(
            Application.edition == edition)
        if region:
            q = q.where(Application.region_code == region)
        if status:
            q = q.where(Application.status == status)
        found = [Recipient(u, name or number or u) for u, name, number in session.execute(q.order_by(Application.id))]
    elif audience in ("site", "finalists"):
        kind = "site" if audience == "site" else "vote"
        q = (select(Application.applicant, Application.enterprise_name, Application.number)
             .join(Shortlist, Shortlist.application_id == Application.id)
             .where(Shortlist.edition == edition, Shortlist.kind == kind).order_by(Shortlist.position))
        found = [Recipient(u, name or number or u) for u, name, number in session.execute(q)]
    elif audience in ("experts", "experts_unpledged"):
        q = select(PanelMember.userid).where(PanelMember.edition == edition)
        q = q.where(PanelMember.status == "accepted") if audience == "experts" else q.where(
            PanelMember.status.in_(("waiting", "asked")))
        ids = list(session.scalars(q.order_by(PanelMember.position)))
        names = {u: n for u, n in session.execute(select(Person.userid, Person.name).where(Person.userid.in_(ids)))}
        found = [Recipient(u, names.get(u, u)) for u in ids]
    else:
        roles = ("committee", "committee_chair") if audience == "committee" else ("recommender",)
        q = (select(Person.userid, Person.name, Person.organization)
             .where(Person.role.in_(roles), Person.active.is_(True)).order_by(Person.role, Person.userid))
        found = [Recipient(u, f"{name}（{org}）" if org else name) for u, name, org in session.execute(q)]
    seen: set[str] = set()
    return [r for r in found if not (r.userid in seen or seen.add(r.userid))]


@access.guarded("broadcast.send")
def send(session: Session, settings: Settings, *, actor: str, now: dt.datetime, audience: str, title: str,
         body: str, region: str = "", status: str = "") -> Broadcast:
    """Queue the notice to everyone the audience names now; recorded, one row per recipient, audited."""
    title, body = check(settings, audience, region=region, status=status, title=title, body=body)
    people = recipients(session, settings, audience, region=region, status=status)
    if not people:
        raise InvalidInput("broadcast_nobody")
    filters = {k: v for k, v in (("region", region), ("status", status)) if v}
    row = Broadcast(edition=settings.award.edition_key, audience=audience, filters=filters, title=title, body=body,
                    author=actor, created_at=now, recipients=len(people))
    session.add(row)
    session.flush()
    for person in people:
        queued = notices.notify(session, person.userid, KIND, now=now, title=title, body=body)
        session.flush()
        session.add(BroadcastRecipient(broadcast_id=row.id, userid=person.userid, label=person.label[:200],
                                       outbox_id=queued[0].id if queued else None))
    audit.record(session, actor=actor, action="broadcast.send", subject=f"broadcast:{row.id}", now=now,
                 audience=audience, recipients=len(people), title=title, **filters)
    return row


def history(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """The edition's broadcasts, newest first, each with its delivery counts."""
    rows = list(session.scalars(select(Broadcast).where(Broadcast.edition == settings.award.edition_key)
                                .order_by(Broadcast.id.desc())))
    out = []
    for b in rows:
        counts = {"queued": 0, "sent": 0, "failed": 0}
        for item in delivery(session, b.id):
            counts[item["delivery"]] += 1
        out.append({"broadcast": b, **counts})
    return out


def get(session: Session, settings: Settings, broadcast_id: int) -> Broadcast:
    """One broadcast of this edition; NotFound otherwise."""
    row = session.get(Broadcast, broadcast_id)
    if row is None or row.edition != settings.award.edition_key:
        raise NotFound(what=str(broadcast_id))
    return row


def delivery(session: Session, broadcast_id: int) -> list[dict[str, Any]]:
    """Each recipient of a broadcast with its delivery: queued, sent (when) or failed (why)."""
    q = (select(BroadcastRecipient.userid, BroadcastRecipient.label, OutboxMessage.status, OutboxMessage.sent_at,
                OutboxMessage.last_error)
         .outerjoin(OutboxMessage, OutboxMessage.id == BroadcastRecipient.outbox_id)
         .where(BroadcastRecipient.broadcast_id == broadcast_id).order_by(BroadcastRecipient.id))
    return [{"userid": u, "label": label, "delivery": DELIVERY.get(status or "pending", "queued"), "sent_at": sent_at,
             "error": (error or "")[:200] if DELIVERY.get(status or "") == "failed" else ""}
            for u, label, status, sent_at, error in session.execute(q)]
