"""What an application looked like when it was submitted, and what changed before it was submitted again.

A snapshot (facts and the current document of every item, by SHA-256) is kept with each submission's audit
entry; a resubmission (after 退回修改) is compared with the previous one, so the recommending unit is told
exactly what the enterprise changed. Pure rules plus one audit look-up.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from workflows.apply.conditions import type_name
from workflows.apply.models import Application
from workflows.apply.records import current_documents, subject, unit_name
from workflows.core import audit
from workflows.core.settings import Settings

FACT_FIELDS = ("enterprise_name", "credit_code", "enterprise_type", "legal_person", "unit", "unit_reason", "industry", "contact_name",
               "contact_phone")


def snapshot(settings: Settings, app: Application) -> dict[str, Any]:
    """The facts and the current document of every item (name, SHA-256), as JSON."""
    facts = {"enterprise_name": app.enterprise_name, "credit_code": app.credit_code,
             "enterprise_type": type_name(settings, app) or None, "legal_person": app.legal_person, "unit": unit_name(settings, app),
             "unit_reason": app.unit_reason, "industry": app.industry,
             "contact_name": app.contact_name, "contact_phone": app.contact_phone}
    docs = {key: {"name": d.original_name, "sha256": d.sha256} for key, d in current_documents(app).items()}
    return {"facts": facts, "documents": docs}


def previous_snapshot(session: Session, app: Application) -> dict[str, Any] | None:
    """The snapshot of the submission before the current one (None for a first submission or old records)."""
    entries = [e for e in audit.entries(session, subject=subject(app), action="application.submit")
               if "snapshot" in (e.details or {})]
    return entries[-2].details["snapshot"] if len(entries) >= 2 else None


def diff(settings: Settings, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The changes between two snapshots: facts changed, documents replaced, added or removed (item order)."""
    out: list[dict[str, Any]] = []
    for f in FACT_FIELDS:
        old, new = before["facts"].get(f), after["facts"].get(f)
        if old != new:
            out.append({"what": "fact", "field": f, "old": old, "new": new})
    for m in settings.award.materials:
        old, new = before["documents"].get(m.key), after["documents"].get(m.key)
        if old == new or (old and new and old["sha256"] == new["sha256"]):
            continue
        kind = "added" if old is None else "removed" if new is None else "replaced"
        out.append({"what": kind, "item": m.name, "old": (old or {}).get("name", ""),
                    "new": (new or {}).get("name", "")})
    return out
