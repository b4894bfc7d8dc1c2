"""Site-visit issues (issue 25.3): from the material consensus the group lists, per site-visit candidate, the issues
to verify on site — the GB/T 19580 item, what to verify, whom to ask, which documents — and at the visit the experts
record a finding per issue: verified, partly verified or not, an adjustment to the item in percentage points, and
its reason (required for any non-zero adjustment). Audited.

The worksheet's site score per item is the material consensus of the item (the agreed percentage where the item
was settled, else the mean of the experts' percentages) plus the item's adjustment: the sum over its issues of the
issue's adjustment — the group's finding where the leader recorded one, else the mean of the experts' findings —
kept within 0–100 %. The experts' site score sheets stay the site phase's ranking score (docs/scoring.md,
[decision]): the worksheet is the verified starting point they score from and the record of why.
"""
from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.core import access, audit, people, stages
from workflows.core.errors import InvalidInput, NotAllowed, NotFound
from workflows.core.settings import Settings
from workflows.scoring.consensus import confirmed, settled
from workflows.scoring.experts import EXPERT_ROLES, find_application
from workflows.scoring.models import SiteFinding, SiteIssue
from workflows.scoring.results import fmt, shortlist
from workflows.scoring.scoresheet import item_points
from workflows.scoring.sheets import configured_rubric
from workflows.scoring.visits import visit_of

STAGE = "site"
TEXT_MAX = 500
OUTCOMES = {"已核实": "verified", "核实": "verified", "部分": "partly", "部分核实": "partly",
            "未核实": "not_verified", "未证实": "not_verified"}
OUTCOME_KEYS = ("verified", "partly", "not_verified")


def _clean(text: str, limit: int = TEXT_MAX) -> str:
    return " ".join((text or "").split())[:limit]


def candidate(session: Session, settings: Settings, number: str) -> Application:
    """The application on the site-visit shortlist with this number, or NotFound."""
    try:
        app = find_application(session, settings, number)
    except NotFound:
        raise NotFound("site_issue_not_candidate", number=number) from None
    if app.id not in {s.application_id for s in shortlist(session, settings, STAGE)}:
        raise NotFound("site_issue_not_candidate", number=app.number)
    return app


def _require_open(session: Session, settings: Settings) -> None:
    if stages.status(session, settings, STAGE) == "closed":
        raise NotAllowed("site_issue_closed", stage=settings.award.stage(STAGE).name)


def issues_of(session: Session, app_id: int) -> list[SiteIssue]:
    """The applicant's issues in worksheet order."""
    return list(session.scalars(select(SiteIssue).where(SiteIssue.application_id == app_id)
                                .order_by(SiteIssue.position)))


def _issue(session: Session, app: Application, position: int | str) -> SiteIssue:
    try:
        pos = int(str(position).strip())
    except ValueError:
        pos = 0
    row = session.scalar(select(SiteIssue).where(SiteIssue.application_id == app.id, SiteIssue.position == pos))
    if row is None:
        raise NotFound("site_issue_unknown", number=app.number, position=str(position))
    return row


def _check_fields(settings: Settings, app: Application, item_key: str, verify: str) -> tuple[str, str]:
    rb = configured_rubric(settings)
    item = rb.item((item_key or "").strip())
    if item is None:
        raise InvalidInput("site_issue_unknown_item", number=app.number, item=item_key)
    text = _clean(verify, 10 * TEXT_MAX)
    if not text:
        raise InvalidInput("site_issue_no_verify", number=app.number)
    if len(text) > TEXT_MAX:
        raise InvalidInput("site_issue_too_long", max=TEXT_MAX, length=len(text))
    return item.key, text


@access.guarded("siteissues.manage")
def add_issue(session: Session, settings: Settings, *, actor: str, now: dt.datetime, number: str, item_key: str,
              verify: str, ask: str = "", documents: str = "") -> SiteIssue:
    """List one issue to verify on site for a site-visit candidate while the site stage is not closed; audited."""
    app = candidate(session, settings, number)
    _require_open(session, settings)
    key, text = _check_fields(settings, app, item_key, verify)
    last = session.scalar(select(func.max(SiteIssue.position)).where(SiteIssue.application_id == app.id)) or 0
    row = SiteIssue(edition=app.edition, application_id=app.id, position=last + 1, item_key=key, verify=text,
                    ask=_clean(ask), documents=_clean(documents), added_by=actor, added_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="site.issue_add", subject=f"application:{app.id}", now=now,
                 position=row.position, item=key, verify=text, ask=row.ask, documents=row.documents)
    return row


@access.guarded("siteissues.manage")
def edit_issue(session: Session, settings: Settings, *, actor: str, now: dt.datetime, number: str,
               position: int | str, item_key: str, verify: str, ask: str = "", documents: str = "") -> SiteIssue:
    """Rewrite one issue (its item, what to verify, whom to ask, documents); audited with what it was."""
    app = candidate(session, settings, number)
    _require_open(session, settings)
    row = _issue(session, app, position)
    key, text = _check_fields(settings, app, item_key, verify)
    before = {"item": row.item_key, "verify": row.verify, "ask": row.ask, "documents": row.documents}
    row.item_key, row.verify, row.ask, row.documents = key, text, _clean(ask), _clean(documents)
    audit.record(session, actor=actor, action="site.issue_edit", subject=f"application:{app.id}", now=now,
                 position=row.position, item=key, verify=text, ask=row.ask, documents=row.documents, before=before)
    return row


def parse_outcome(word: str) -> str:
    """'已核实' | '部分' | '未核实' (or the English keys) → verified | partly | not_verified, else InvalidInput."""
    w = (word or "").strip()
    if w in OUTCOME_KEYS:
        return w
    if w not in OUTCOMES:
        raise InvalidInput("site_finding_bad_outcome", word=w)
    return OUTCOMES[w]


def parse_adjustment(text: str) -> int:
    """'+5' | '-10%' | '0' → an integer of percentage points within −100…100, else InvalidInput."""
    raw = (text or "").strip().rstrip("%％").replace("＋", "+").replace("－", "-").replace("−", "-")
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput("site_finding_bad_adjustment", raw=text) from None
    if not -100 <= value <= 100:
        raise InvalidInput("site_finding_bad_adjustment", raw=text)
    return value


@access.guarded("siteissues.finding")
def record_finding(session: Session, settings: Settings, *, actor: str, now: dt.datetime, number: str,
                   position: int | str, outcome: str, adjustment: int = 0, finding: str = "", reason: str = "",
                   as_group: bool = False) -> SiteFinding:
    """An expert of the applicant's site visit records (or rewrites) his finding on one issue; the leader may record
    the group's (`as_group`). A non-zero adjustment needs its reason. Audited."""
    app = candidate(session, settings, number)
    _require_open(session, settings)
    row = _issue(session, app, position)
    if as_group:
        if access.role_of(session, actor) != "expert_leader":
            raise NotAllowed("site_finding_group_leader_only")
    else:
        visit = visit_of(session, settings, app.id)
        if visit is None or actor not in visit.experts:
            raise NotAllowed("site_finding_not_on_visit", number=app.number)
    key = parse_outcome(outcome)
    if not isinstance(adjustment, int) or not -100 <= adjustment <= 100:
        raise InvalidInput("site_finding_bad_adjustment", raw=str(adjustment))
    reason, finding = _clean(reason, 10 * TEXT_MAX), _clean(finding, 10 * TEXT_MAX)
    if adjustment and not reason:
        raise InvalidInput("site_finding_reason_required", number=app.number, position=row.position,
                           adjustment=adjustment)
    if len(reason) > TEXT_MAX or len(finding) > TEXT_MAX:
        raise InvalidInput("site_issue_too_long", max=TEXT_MAX, length=max(len(reason), len(finding)))
    found = session.scalar(select(SiteFinding).where(SiteFinding.issue_id == row.id, SiteFinding.recorded_by == actor,
                                                     SiteFinding.by_group == as_group))
    before = None
    if found is None:
        found = SiteFinding(issue_id=row.id, recorded_by=actor, by_group=as_group)
        session.add(found)
    else:
        before = {"outcome": found.outcome, "adjustment": found.adjustment, "finding": found.finding,
                  "reason": found.reason, "at": found.recorded_at.isoformat()}
    found.outcome, found.adjustment, found.finding, found.reason, found.recorded_at = \
        key, adjustment, finding, reason, now
    session.flush()
    audit.record(session, actor=actor, action="site.finding", subject=f"application:{app.id}", now=now,
                 position=row.position, item=row.item_key, group=as_group, outcome=key, adjustment=adjustment,
                 finding=finding, reason=reason, before=before)
    return found


def findings_of(session: Session, issue_ids: list[int]) -> dict[int, list[SiteFinding]]:
    """The findings of these issues, group's first, then by time."""
    out: dict[int, list[SiteFinding]] = {i: [] for i in issue_ids}
    for f in session.scalars(select(SiteFinding).where(SiteFinding.issue_id.in_(issue_ids or [0]))
                             .order_by(SiteFinding.by_group.desc(), SiteFinding.recorded_at, SiteFinding.id)):
        out[f.issue_id].append(f)
    return out


def issue_adjustment(findings: list[SiteFinding]) -> Fraction:
    """The group's adjustment where recorded, else the mean of the experts' (0 without findings)."""
    group = [f for f in findings if f.by_group]
    if group:
        return Fraction(group[0].adjustment)
    own = [f.adjustment for f in findings]
    return Fraction(sum(own), len(own)) if own else Fraction(0)


def _counting(findings: list[SiteFinding]) -> list[SiteFinding]:
    """The findings that make the issue's adjustment: the group's where recorded, else every expert's."""
    group = [f for f in findings if f.by_group]
    return group[:1] or findings


def material_base(session: Session, settings: Settings, app_id: int) -> dict[str, Fraction]:
    """The material consensus per item in percent: agreed where settled, else the experts' mean percentage."""
    agreed = settled(session, "material", app_id)
    sheets = confirmed(session, "material", app_id)
    out: dict[str, Fraction] = {}
    for key in configured_rubric(settings).item_keys:
        if key in agreed:
            out[key] = Fraction(agreed[key].percent)
            continue
        values = [int(s.percentages[key]) for s in sheets if key in s.percentages]
        if values:
            out[key] = Fraction(sum(values), len(values))
    return out


def _pct(value: Fraction) -> str:
    text = fmt(value, 1) if value.denominator != 1 else str(value.numerator)
    return text.rstrip("0").rstrip(".") if "." in text else text


def worksheet(session: Session, settings: Settings, app: Application) -> dict[str, Any]:
    """The applicant's issue worksheet as template data: each issue with its findings and adjustment, and per item
    touched by an issue the material consensus, the adjustment, the site score and the reasons."""
    rb = configured_rubric(settings)
    names = {p.userid: p.name for p in people.with_role(session, *EXPERT_ROLES)}
    rows = issues_of(session, app.id)
    found = findings_of(session, [r.id for r in rows])
    base = material_base(session, settings, app.id)
    issues, per_item = [], {}
    for r in rows:
        item = rb.item(r.item_key)
        adj = issue_adjustment(found[r.id])
        issues.append({"position": r.position, "item": r.item_key, "item_name": item.name if item else "",
                       "verify": r.verify, "ask": r.ask, "documents": r.documents,
                       "adjustment": _signed(adj), "findings": [
                           {"by": "专家组" if f.by_group else names.get(f.recorded_by) or f.recorded_by,
                            "userid": f.recorded_by, "group": f.by_group, "outcome": f.outcome,
                            "adjustment": f.adjustment, "finding": f.finding, "reason": f.reason,
                            "at": f.recorded_at.isoformat()} for f in found[r.id]]})
        per_item.setdefault(r.item_key, []).append((r, adj, found[r.id]))
    items = []
    for key in [k for k in rb.item_keys if k in per_item]:
        item = rb.item(key)
        adj = sum((a for _, a, _ in per_item[key]), Fraction(0))
        start = base.get(key)
        site = None if start is None else min(max(start + adj, Fraction(0)), Fraction(100))
        reasons = [f.reason for _, _, fs in per_item[key] for f in _counting(fs) if f.adjustment and f.reason]
        items.append({"key": key, "name": item.name, "max": item.max_points,
                      "material": "" if start is None else _pct(start), "adjustment": _signed(adj),
                      "site": "" if site is None else _pct(site),
                      "site_points": "" if site is None else fmt(item_points(item.max_points, site)),
                      "material_points": "" if start is None else fmt(item_points(item.max_points, start)),
                      "reasons": list(dict.fromkeys(reasons))})
    return {"number": app.number, "enterprise": app.enterprise_name, "issues": issues, "items": items,
            "open": sum(1 for i in issues if not i["findings"])}


def _signed(value: Fraction) -> str:
    if value == 0:
        return "0"
    return ("+" if value > 0 else "−") + _pct(abs(value))


def site_worksheets(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Every site-visit candidate's worksheet, in shortlist order."""
    return [worksheet(session, settings, session.get(Application, s.application_id))
            for s in shortlist(session, settings, STAGE)]


def expert_worksheets(session: Session, settings: Settings, userid: str) -> list[dict[str, Any]]:
    """The worksheets of the site visits this expert is on (for his 进度), each with his own findings marked."""
    out = []
    for s in shortlist(session, settings, STAGE):
        visit = visit_of(session, settings, s.application_id)
        if visit is None or userid not in visit.experts:
            continue
        sheet = worksheet(session, settings, session.get(Application, s.application_id))
        sheet["starts_at"] = visit.starts_at.isoformat()
        for issue in sheet["issues"]:
            issue["mine"] = next((f for f in issue["findings"] if f["userid"] == userid and not f["group"]), None)
        sheet["owed"] = sum(1 for i in sheet["issues"] if i["mine"] is None)
        out.append(sheet)
    return out
