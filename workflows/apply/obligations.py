"""What the application stage owes, for the reminder sweep: applicants with unfinished applications,
recommending units with applications waiting for their opinion."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply.application import DERIVED_ANSWERS, missing_facts, unanswered_questions
from workflows.apply.completeness import Receipt, checklist, material_items
from workflows.apply.models import AppStatus, Application, Document
from workflows.core.models import Person
from workflows.core.reminders import Obligation, deadline_key, deadlines_by_subject
from workflows.core.settings import Settings

UTC = dt.timezone.utc

_RECEIVED = {"received", "accepted"}


def _receipts(session: Session, edition: str, statuses: list[str]) -> dict[int, list[Receipt]]:
    """Every document of the matching applications, as receipts in upload order (one query)."""
    out: dict[int, list[Receipt]] = defaultdict(list)
    q = (select(Document.application_id, Document.item_key, Document.status, Document.reason)
         .join(Application, Application.id == Document.application_id)
         .where(Application.edition == edition, Application.status.in_(statuses))
         .order_by(Document.id))
    for app_id, key, status, reason in session.execute(q):
        if status in _RECEIVED:
            out[app_id].append(Receipt(key, "received"))
        elif status == "rejected":
            out[app_id].append(Receipt(key, "rejected", reason))
        # other statuses (e.g. superseded) do not count either way
    return out


def unfinished_applications(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Applicants whose application is a draft or was returned: every fact, question and material still owed."""
    edition = settings.award.edition_key
    statuses = [AppStatus.DRAFT.value, AppStatus.RETURNED.value]
    # Plain rows (the same attributes, read-only): no ORM identities for thousands of applications.
    apps = session.execute(select(Application.__table__)
                           .where(Application.edition == edition, Application.status.in_(statuses))
                           .order_by(Application.id)).all()
    if not apps:
        return
    items = material_items(settings)
    names = {i.key: i.name for i in items}
    receipts = _receipts(session, edition, statuses)
    deadlines = deadlines_by_subject(session, settings, "apply", [f"application:{a.id}" for a in apps])
    for a in apps:
        cl = checklist(items, receipts.get(a.id, []))
        unanswered = unanswered_questions(settings, a)
        rejected = {e.key: e.reason for e in cl.entries if e.state == "rejected"}
        deadline = deadlines[f"application:{a.id}"]
        yield Obligation(
            recipient=a.applicant, stage="apply", deadline_key=deadline_key("apply", deadline), deadline=deadline,
            kind="remind.apply",
            data={"application_id": a.id, "enterprise_name": a.enterprise_name or "", "number": a.number or "",
                  "returned": a.status == AppStatus.RETURNED,
                  "facts": missing_facts(a),
                  "questions": [q.question for q in settings.award.eligibility
                                if q.key in unanswered and q.key not in DERIVED_ANSWERS],
                  "missing": [{"key": k, "name": names[k], "reason": rejected.get(k)} for k in cl.missing_required]})


def _submitted_by_unit(session: Session, settings: Settings) -> list[tuple[Any, set[str], str]]:
    """Each submitted application of the edition, the active recommenders of its unit and the unit's name."""
    edition = settings.award.edition_key
    apps = session.execute(select(Application.id, Application.enterprise_name, Application.number,
                                  Application.region_code, Application.department, Application.submitted_at)
                           .where(Application.edition == edition, Application.status == AppStatus.SUBMITTED.value)
                           .order_by(Application.id)).all()
    if not apps:
        return []
    by_unit: dict[str, set[str]] = defaultdict(set)  # region name or department -> userids
    for userid, region, org in session.execute(select(Person.userid, Person.region, Person.organization)
                                               .where(Person.role == "recommender", Person.active.is_(True))):
        for unit in (region, org):
            if unit:
                by_unit[unit].add(userid)
    region_names = {r.code: r.name for r in settings.award.regions}
    out = []
    for a in apps:
        unit = region_names.get(a.region_code, "") if a.region_code else (a.department or "")
        # roster regions are canonical names; a department is the roster's organization
        out.append((a, set(by_unit.get(unit, set())) if unit else set(), unit))
    return out


def _entry(a: Any) -> dict[str, Any]:
    return {"application_id": a.id, "enterprise_name": a.enterprise_name or "", "number": a.number or "",
            "submitted_at": a.submitted_at.astimezone(UTC).isoformat() if a.submitted_at else None}


def recommenders_awaiting_opinion(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Recommending units with submitted applications of their region or department and no opinion yet."""
    rows = _submitted_by_unit(session, settings)
    if not rows:
        return
    deadlines = deadlines_by_subject(session, settings, "apply", [f"application:{a.id}" for a, _, _ in rows])
    pending: dict[tuple[str, dt.datetime], list[dict[str, Any]]] = defaultdict(list)
    for a, who, _unit in rows:
        for userid in who:
            pending[(userid, deadlines[f"application:{a.id}"])].append(_entry(a))
    for (userid, deadline), entries in sorted(pending.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        yield Obligation(recipient=userid, stage="apply", deadline_key=deadline_key("recommend", deadline),
                         deadline=deadline, kind="remind.recommend",
                         data={"applications": entries, "count": len(entries)})


def units_without_recommender(session: Session, settings: Settings) -> Iterator[Obligation]:
    """The secretariat, every day an application waits at a unit with no recommender on the roster [seed §三(五)].

    Nobody could give the unit's opinion: the secretariat owes enrolling the unit's contact (roster import) or
    having the unit act. Reported daily (`Obligation.daily_since`: the day of submission was told at once by
    `recommend.no_recommender`) until the application stage's deadline; listed in "who owes what".
    """
    rows = [(a, unit) for a, who, unit in _submitted_by_unit(session, settings) if not who]
    if not rows:
        return
    secretariat = list(session.scalars(select(Person.userid).where(Person.role == "secretariat",
                                                                   Person.active.is_(True)).order_by(Person.userid)))
    deadlines = deadlines_by_subject(session, settings, "apply", [f"application:{a.id}" for a, _ in rows])
    by_deadline: dict[dt.datetime, list[tuple[Any, str]]] = defaultdict(list)
    for a, unit in rows:
        by_deadline[deadlines[f"application:{a.id}"]].append((a, unit))
    for deadline, group in sorted(by_deadline.items()):
        since = min((a.submitted_at for a, _ in group if a.submitted_at), default=None)
        entries = [{**_entry(a), "unit": unit} for a, unit in group]
        for userid in secretariat:
            yield Obligation(recipient=userid, stage="apply", deadline_key=deadline_key("unattended", deadline),
                             deadline=deadline, kind="remind.unattended", daily_since=since or deadline,
                             data={"applications": entries, "count": len(entries),
                                   "units": sorted({u for _, u in group})})
