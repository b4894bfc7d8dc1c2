"""The winners' 证书 in the workbench: issue them once after the announcement (asked first), then download each as
Word or a printable page. The same verbs and gate (`award.manage`) as the CLI's `award certificates`."""
from __future__ import annotations

from flask import Response, redirect, request

from workflows import publicity
from workflows.core.errors import DomainError

from ... import certificates as files
from .auth import Signed, now
from .gate import bp, view
from .render import headers, message, page, rt


def _listing(status: int = 200, **extra) -> Response:  # noqa: ANN003
    settings = rt().settings
    with rt().sessions() as s:
        approval = publicity.current_approval(s, settings)
        done = {c.application_id: c for c in publicity.certificates.issued(s, settings)}
        winners = [{"winner": publicity.describe(s, a), "certificate": done.get(a)}
                   for a in (approval.approved if approval else [])]
    announced = approval is not None and approval.announced_at is not None
    return page("certificates", status, winners=winners, announced=announced,
                missing=[w for w in winners if w["certificate"] is None], **{"error": "", "done": False, **extra})


@bp.get("/certificates")
@view("publicity", "publicity.view")
def certificates(me: Signed) -> Response:
    """Each winner with its certificate (number, date, downloads), or what is still to be issued."""
    return _listing(done=request.args.get("done") == "1")


@bp.post("/certificates")
@view("publicity", "publicity.view")
def certificates_issue(me: Signed) -> Response:
    """Check (rolled back) and ask; once confirmed, number a certificate for every winner without one."""
    settings = rt().settings
    if request.form.get("confirmed") != "1":
        with rt().sessions() as s:
            try:
                new = publicity.certificates.issue(s, settings, actor=me.userid, now=now())
                preview = [{"number": c.number, "winner": publicity.describe(s, c.application_id)} for c in new]
            except DomainError as exc:
                s.rollback()
                return _listing(409, error=message(f"errors.{exc.code}", **exc.data))
            finally:
                s.rollback()
        return page("certificates_confirm", preview=preview)
    try:
        with rt().sessions.begin() as s:
            publicity.certificates.issue(s, settings, actor=me.userid, now=now())
    except DomainError as exc:
        return _listing(409, error=message(f"errors.{exc.code}", **exc.data))
    return headers(redirect("/admin/certificates?done=1", code=303))


@bp.get("/certificates/<ref>.<fmt>")
@view("publicity", "publicity.view")
def certificate_file(me: Signed, ref: str, fmt: str) -> Response:
    """One certificate as Word (download) or HTML (to print)."""
    if fmt not in files.FORMATS:
        return page("missing", 404)
    with rt().sessions() as s:
        try:
            data = publicity.certificates.data(s, rt().settings, ref)
        except DomainError:
            return page("missing", 404)
    resp = Response(files.render(rt().renderer, data, fmt), mimetype=files.MIME[fmt])
    if fmt == "docx":
        resp.headers["Content-Disposition"] = f'attachment; filename="{files.file_name(data, fmt)}"'
    else:   # our own printable page: its inline style is the certificate's layout
        resp.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; "
                                                   "frame-ancestors 'none'")
    resp.headers["Cache-Control"] = "private, no-store"
    return headers(resp)
