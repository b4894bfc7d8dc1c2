"""GET/POST /evidence/<token>: a complainant adds evidence files on a page, through the same intake as chat."""
from __future__ import annotations

from flask import Blueprint, Response, request

from workflows import intake
from workflows.core.errors import DomainError
from workflows.publicity.models import Complaint

from .pages import _read, _rt, page, receive_upload, refusal_page

bp = Blueprint("evidence", __name__)


@bp.route("/evidence/<token>", methods=["GET", "POST"])
def evidence(token: str) -> Response:
    """Show the evidence form for one complaint, or receive a file."""
    rt = _rt()
    data, refused = _read(rt.services["links"].read_evidence, token, "evidence")
    if refused:
        return refused
    settings, now = rt.settings, rt.clock()
    target = intake.Target("evidence", int(data["c"]))
    with rt.sessions() as s:
        try:
            intake.check(s, settings, target, actor=data["u"], now=now)
        except DomainError as exc:
            return refusal_page(exc, link="evidence")
        complaint = s.get(Complaint, target.id)
        rules = intake.rules(settings, target)
        context = {"token": token, "number": complaint.number or "", "kinds": list(rules.kinds),
                   "max_mb": rules.max_mb, "accept": rules.accept}
    if request.method == "GET":
        return page("evidence", **context)
    return receive_upload("evidence", context, target=target, actor=data["u"])
