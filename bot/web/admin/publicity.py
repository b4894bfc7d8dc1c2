"""The workbench's notice page: the window and proposed winners, complaints (how each came, its evidence files to
open), their verification, the approval and the prizes; and the evidence downloads."""
from __future__ import annotations

from flask import Response, request
from sqlalchemy import select

from workflows import publicity
from workflows.publicity.models import Complaint, ComplaintEvidence

from .application import PREVIEW, send_stored
from .auth import Signed, now
from .gate import bp, view
from .pages import names_of
from .render import page, rt


def _evidence(s, complaint_ids: list[int]) -> dict[int, list[dict]]:  # noqa: ANN001
    """Each complaint's evidence files (id, name, size, whether a browser can show it) in the order received."""
    out: dict[int, list[dict]] = {i: [] for i in complaint_ids}
    for e in s.scalars(select(ComplaintEvidence).where(ComplaintEvidence.complaint_id.in_(complaint_ids or [0]))
                       .order_by(ComplaintEvidence.id)):
        out[e.complaint_id].append({"id": e.id, "name": e.original_name, "size": e.size, "kind": e.kind,
                                    "preview": e.kind in PREVIEW, "received_at": e.received_at})
    return out


@bp.get("/publicity")
@view("publicity", "publicity.view")
def publicity_page(me: Signed) -> Response:
    """The public notice (window, proposed winners), complaints and their verification, approval and award."""
    settings = rt().settings
    with rt().sessions() as s:
        pub = publicity.current(s, settings)
        notice = publicity.view(s, settings, now=now()) if pub else None
        rows = publicity.listing(s, settings)
        files = _evidence(s, [c.id for c in rows])
        names = names_of(s, [c.registered_by for c in rows if c.registered_by])
        complaints = [publicity.complaint_data(s, c) | {
            "files": files[c.id], "registered_by": names.get(c.registered_by or "", c.registered_by or "")}
            for c in rows]
        approval = publicity.current_approval(s, settings)
        records = [{"app": publicity.describe(s, r.application_id), "prize": r.prize_yuan, "status": r.payment_status,
                    "reference": r.payment_reference or "", "paid_at": r.paid_at,
                    "plaque": r.plaque_issued_on, "certificate": r.certificate_issued_on}
                   for r in publicity.records(s, settings)]
        approved = [publicity.describe(s, i) for i in approval.approved] if approval else []
        return page("publicity", notice=notice, complaints=complaints, approval=approval, approved=approved,
                    records=records)


@bp.get("/publicity/evidence/<int:evidence_id>")
@view("publicity", "publicity.view")
def evidence(me: Signed, evidence_id: int) -> Response:
    """One complaint's evidence file (this edition's, lodged or registered), checked against its SHA-256 before a
    byte is sent: inline for PDF and images (`?inline=1`), else as a download."""
    with rt().sessions() as s:
        row = s.execute(select(ComplaintEvidence, Complaint)
                        .join(Complaint, Complaint.id == ComplaintEvidence.complaint_id)
                        .where(ComplaintEvidence.id == evidence_id,
                               Complaint.edition == rt().settings.award.edition_key,
                               Complaint.number.is_not(None))).first()
        if row is None:
            return page("missing", 404)
        e = row[0]
        return send_stored(e.sha256, e.size, e.kind, e.original_name, inline=request.args.get("inline") == "1")
