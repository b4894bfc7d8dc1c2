"""One application in the workbench: facts, answers, documents (preview, download), recommendation, formal review
and 补正 history, assignments, audit trail; and the secretariat's formal-review actions.

An action is two steps, as in chat: the first POST checks it by running the very verb in a transaction that is
rolled back (same gates, same stage, same validation), and shows what will happen; only the confirmation runs it
for real.  Nothing is offered that the verb would refuse: the buttons appear only on an undecided review while
the 初审 stage is open.
"""
from __future__ import annotations

import io
from typing import Any, Callable

from flask import Response, redirect, request, send_file
from sqlalchemy import select

from workflows import apply, review
from workflows.apply.models import Document, Recommendation
from workflows.core import access, audit, stages
from workflows.core.errors import DomainError, NotAllowed, NotFound
from workflows.documents.filetypes import KINDS
from workflows.documents.store import DocumentCorrupted, DocumentMissing
from workflows import scoring
from workflows.scoring import feedback, interest, siteissues, visits
from workflows.scoring.comments import TEXT_MAX
from workflows.scoring.models import Assignment, ConflictDeclaration, ScoreSheet

from ... import feedback as feedback_files
from .auth import Signed, now
from .exports import _download
from .gate import bp, view
from .names import table, who
from .pages import visible_ids
from .render import env, headers, message, page, rt

PREVIEW = ("pdf", "jpeg", "png")
ACTIONS = ("accept", "reject", "supplement", "finding")


def send_stored(sha256: str, size: int, kind: str, name: str, *, inline: bool) -> Response:
    """A stored file, verified against its SHA-256 before a byte is sent (503 and nothing sent otherwise):
    inline only for PDF and images (framed only by our own pages), else as a download; never cached."""
    try:
        content = rt().services["documents"].read_bytes(sha256, size)
    except (DocumentMissing, DocumentCorrupted):
        return page("unavailable", 503)
    inline = inline and kind in PREVIEW
    resp = send_file(io.BytesIO(content), mimetype=KINDS[kind].mime, as_attachment=not inline,
                     download_name=name, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; frame-ancestors 'self'"
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    return resp


def _load(s, me: Signed, app_id: int):  # noqa: ANN001, ANN202
    """The application if this member may open it; NotFound otherwise (an expert learns nothing of others)."""
    app = apply.get(s, rt().settings, app_id)
    ids = visible_ids(s, me)
    if ids is not None and app.id not in ids:
        raise NotFound(what=str(app_id))
    return app


def _full_view(me: Signed) -> bool:
    return access.may_see(me.role, "edition.overview")


def _documents(s, me: Signed, app) -> list[Document]:  # noqa: ANN001
    """What this member may open: every file for the secretariat, current accepted files for an expert."""
    if _full_view(me):
        return list(review.documents_of(s, app.id))
    if not interest.declared(s, me.userid, app.id):   # an expert's files open after his 利益冲突声明
        return []
    return sorted((d for d in apply.current_documents(app).values() if d.status != "rejected"), key=lambda d: d.id)


def _my_sheets(s, me: Signed, app) -> list[dict[str, Any]]:  # noqa: ANN001
    """The expert's own sheets of this application (never anyone else's): items, his scores and comments."""
    settings = rt().settings
    rb = scoring.configured_rubric(settings)
    out = []
    for row in s.scalars(select(ScoreSheet).where(ScoreSheet.application_id == app.id, ScoreSheet.expert == me.userid)
                         .order_by(ScoreSheet.phase)):
        out.append({"id": row.id, "phase": row.phase, "status": row.status,
                    "items": [{"key": i.key, "name": i.name, "percent": row.percentages.get(i.key),
                               "comment": (row.comments or {}).get(i.key) or {}, "reason": (row.reasons or {}).get(i.key, "")}
                              for i in rb.items], "text_max": TEXT_MAX})
    return out


def _feedback_ready(s, app) -> bool:  # noqa: ANN001
    """Whether the applicant's feedback report can be written (its material review is complete)."""
    try:
        feedback.feedback_data(s, rt().settings, app.number or "")
    except DomainError:
        return False
    return True


def _review_actions(s, me: Signed, app, r) -> dict[str, bool]:  # noqa: ANN001
    """Which formal-review actions to offer (none that the verb would refuse now)."""
    settings = rt().settings
    if not access.allows("review.decide", me.role) or (r is not None and r.decision is not None):
        return {}
    if app.status not in ("recommended", "supplement"):
        return {}
    try:
        stages.require_open(s, settings, review.STAGE, now=now(), subject=apply.subject(app))
    except DomainError:
        return {}
    open_request = review.open_request(s, app.id)
    return {"accept": open_request is None, "supplement": open_request is None, "reject": True, "finding": True}


def _site_issues(s, me: Signed, app) -> dict[str, Any] | None:  # noqa: ANN001
    """The issue worksheet of a site-visit candidate (issue 25.3): for the secretariat and the leader, and for an
    expert on its visit; None otherwise."""
    settings = rt().settings
    if app.id not in {x.application_id for x in scoring.shortlist(s, settings, "site")}:
        return None
    if not access.may_see(me.role, "scores.view"):
        visit = visits.visit_of(s, settings, app.id)
        if visit is None or me.userid not in visit.experts:
            return None
    return siteissues.worksheet(s, settings, app)


def _context(s, me: Signed, app) -> dict[str, Any]:  # noqa: ANN001
    settings = rt().settings
    docs = _documents(s, me, app)
    current = {d.id for d in apply.current_documents(app).values()}
    items = {m.key: m.name for m in settings.award.materials}
    data: dict[str, Any] = {
        "app": app, "summary": review.summary(settings, app), "unit": apply.unit_name(settings, app),
        "eligibility": [{"question": q.question, "kind": q.kind, "answer": app.eligibility.get(q.key)}
                        for q in settings.award.eligibility],
        "documents": [{"id": d.id, "item": items.get(d.item_key, d.item_key), "name": d.original_name,
                       "size": d.size, "kind": d.kind, "status": d.status, "reason": d.reason or "",
                       "source": d.source, "uploaded_at": d.uploaded_at, "current": d.id in current,
                       "preview": d.kind in PREVIEW} for d in docs],
        "full": _full_view(me),
        "site_issues": _site_issues(s, me, app),
    }
    if not data["full"]:
        data["my_sheets"] = _my_sheets(s, me, app)
        mine = interest.declaration(s, me.userid, app.id)
        data["interest"] = {"outcome": mine.outcome if mine else None, "at": mine.declared_at if mine else None,
                            "years": settings.award.rules.conflict_lookback_years, "codes": list(interest.CODES),
                            "note_max": interest.NOTE_MAX}
        return data
    r = review.review_for(s, app.id)
    assignments = list(s.scalars(select(Assignment).where(Assignment.application_id == app.id)
                                 .order_by(Assignment.phase, Assignment.expert)))
    sheets = {(x.phase, x.expert): x for x in s.scalars(select(ScoreSheet).where(ScoreSheet.application_id == app.id))}
    declared = list(s.scalars(select(ConflictDeclaration).where(ConflictDeclaration.application_id == app.id)))
    trail = audit.entries(s, subject=apply.subject(app))
    names = who(s, table(env()), [a.expert for a in assignments] + [c.expert for c in declared]
                + [e.actor for e in trail] + [d.expert for d in interest.of_application(s, app.id)])
    data |= {
        "recommendations": list(s.scalars(select(Recommendation).where(Recommendation.application_id == app.id)
                                          .order_by(Recommendation.round))),
        "review": r, "findings": review.findings_view(settings, r) if r else [],
        "requests": [{"round": q.round, "status": q.status, "deadline": q.deadline, "created_at": q.created_at,
                      "closed_at": q.closed_at, "items": review.owed(settings, q, pending_only=False)}
                     for q in (r.requests if r else [])],
        "assignments": [{"phase": a.phase, "expert": names.get(a.expert, a.expert), "at": a.assigned_at,
                         "sheet": sheets[(a.phase, a.expert)].status if (a.phase, a.expert) in sheets else None}
                        for a in assignments],
        "declared": [{"expert": names.get(c.expert, c.expert), "reason": c.reason, "at": c.declared_at}
                     for c in declared],
        "interests": [{"expert": names.get(d.expert, d.expert), "outcome": d.outcome, "code": d.code,
                       "note": d.note, "at": d.declared_at} for d in interest.of_application(s, app.id)],
        "trail": [{"at": e.at, "actor": names.get(e.actor, e.actor), "action": e.action, "details": e.details}
                  for e in trail],
        "actions": _review_actions(s, me, app, r),
        "applicant_items": review.applicant_items(settings),
        "flagged": {f["item_key"] for f in (review.findings_view(settings, r) if r else []) if f["item_key"]
                    and not f["resolved"]},
        "reason_max": review.REASON_MAX,
        "feedback": _feedback_ready(s, app),
    }
    return data


@bp.get("/applications/<int:app_id>")
@view("applications", "applications.view")
def application(me: Signed, app_id: int) -> Response:
    """One application as the member may see it."""
    with rt().sessions() as s:
        try:
            app = _load(s, me, app_id)
        except NotFound:
            return page("missing", 404)
        preview = request.args.get("preview", "")
        return page("application", done=request.args.get("done", ""),
                    preview=int(preview) if preview.isdigit() else None, **_context(s, me, app))


@bp.get("/applications/<int:app_id>/documents/<int:doc_id>")
@view("applications", "applications.view")
def document(me: Signed, app_id: int, doc_id: int) -> Response:
    """A document, verified against its SHA-256 before a byte is sent: inline (PDF, images) or as a download."""
    with rt().sessions() as s:
        try:
            app = _load(s, me, app_id)
        except NotFound:
            return page("missing", 404)
        doc = next((d for d in _documents(s, me, app) if d.id == doc_id), None)
        if doc is None:
            return page("missing", 404)
        return send_stored(doc.sha256, doc.size, doc.kind, doc.original_name,
                           inline=request.args.get("inline") == "1")


@bp.get("/applications/<int:app_id>/feedback.<ext>")
@view("applications", "applications.view")
def feedback_report(me: Signed, app_id: int, ext: str) -> Response:
    """The applicant's feedback report (issue 25.5) as the CLI writes it, for the secretariat: Markdown, HTML or
    Word (the file the applicant receives in chat)."""
    if ext not in ("md", "html", "docx") or not _full_view(me):
        return page("missing", 404)
    settings = rt().settings
    with rt().sessions() as s:
        try:
            app = _load(s, me, app_id)
            data = feedback.feedback_data(s, settings, app.number or "")
        except DomainError:
            return page("missing", 404)
    if ext == "docx":
        return _download(feedback_files.docx(rt().renderer, data), feedback_files.DOCX, feedback_files.file_name(data))
    text = rt().renderer.text(f"reports/feedback.{ext}.j2", f=data) + "\n"
    mime = "text/html" if ext == "html" else "text/markdown"
    return _download(text.encode("utf-8"), f"{mime}; charset=utf-8", f"feedback-{data['number']}.{ext}")


@bp.post("/applications/<int:app_id>/comments")
@view("applications", "applications.view")
def save_comments(me: Signed, app_id: int) -> Response:
    """An expert's strengths and opportunities per item on his own draft sheet (issue 25.1), as in chat."""
    form = request.form
    sheet_id = form.get("sheet", "")
    number = str(app_id)
    try:
        with rt().sessions.begin() as s:
            app = _load(s, me, app_id)
            number = app.number or number
            row = s.get(ScoreSheet, int(sheet_id)) if sheet_id.isdigit() else None
            if row is None or row.application_id != app.id or row.expert != me.userid:
                return page("missing", 404)
            keys = scoring.configured_rubric(rt().settings).item_keys
            found = {k: {"strengths": form.get(f"s_{k}", ""), "opportunities": form.get(f"o_{k}", "")} for k in keys}
            found = {k: v for k, v in found.items() if v["strengths"].strip() or v["opportunities"].strip()
                     or k in (row.comments or {})}
            scoring.set_comments(s, rt().settings, actor=me.userid, now=now(), sheet_id=row.id, comments=found)
    except NotFound:
        return page("missing", 404)
    except DomainError as exc:
        return _refused(me, exc, number, app_id)
    return headers(redirect(f"/admin/applications/{app_id}?done=comments#my-sheets", code=303))


@bp.post("/applications/<int:app_id>/interest")
@view("applications", "applications.view")
def declare_interest(me: Signed, app_id: int) -> Response:
    """An assigned expert's 利益冲突声明: no conflict (the files open) or a conflict with its reason code (回避).
    The required tick on the form is the confirmation, as the card is in chat."""
    form = request.form
    outcome = form.get("outcome", "")
    if outcome not in (interest.NONE, interest.CONFLICT) or form.get("confirmed") != "1":
        return page("action_refused", 400, number=str(app_id), app_id=app_id,
                    text=message("errors.interest_unconfirmed"))
    number = str(app_id)
    try:
        with rt().sessions.begin() as s:
            app = _load(s, me, app_id)
            number = app.number or number
            if outcome == interest.NONE:
                interest.declare_none(s, rt().settings, actor=me.userid, now=now(), number=number)
            else:
                scoring.declare_conflict(s, rt().settings, actor=me.userid, now=now(), number=number,
                                         code=form.get("code", ""), reason=" ".join(form.get("note", "").split()))
    except NotFound:
        return page("missing", 404)
    except DomainError as exc:
        return _refused(me, exc, number, app_id)
    target = f"/admin/applications/{app_id}?done=interest" if outcome == interest.NONE else "/admin/applications"
    return headers(redirect(target, code=303))


def _verb(s, app, action: str, form) -> Callable[[], Any]:  # noqa: ANN001
    """The guarded verb a form names, ready to call in session `s` (the actor is the signed-in member)."""
    settings, t, me = rt().settings, now(), request.environ["awardbot.admin"]
    if action == "accept":
        return lambda: review.accept(s, settings, application_id=app.id, actor=me.userid, now=t)
    if action == "reject":
        return lambda: review.reject(s, settings, application_id=app.id, reason=form.get("reason", ""),
                                     actor=me.userid, now=t)
    if action == "finding":
        return lambda: review.add_finding(s, settings, application_id=app.id, kind="authenticity",
                                          detail=form.get("detail", ""), actor=me.userid, now=t)
    keys = [m.key for m in review.applicant_items(settings) if m.key in form.getlist("items")]
    items = {k: form.get(f"reason_{k}", "") for k in keys}
    return lambda: review.request_supplement(s, settings, application_id=app.id, items=items, actor=me.userid, now=t)


@bp.post("/applications/<int:app_id>/review")
@view("applications", "applications.view")
def review_action(me: Signed, app_id: int) -> Response:
    """受理 / 需补正 / 不予受理 / 真实性存疑: check (rolled back) and ask to confirm, or run it once confirmed."""
    form = request.form
    action = form.get("action", "")
    if action not in ACTIONS:
        return page("missing", 404)
    request.environ["awardbot.admin"] = me
    settings = rt().settings
    confirmed = form.get("confirmed") == "1" or action == "finding"   # a finding decides nothing: as in chat
    number = str(app_id)
    if not confirmed:
        with rt().sessions() as s:
            try:
                app = _load(s, me, app_id)
                number, summary = app.number or f"#{app.id}", review.summary(settings, app)
                _verb(s, app, action, form)()
                preview = _preview(s, app, action, form)
            except DomainError as exc:
                s.rollback()
                return _refused(me, exc, number, app_id)
            finally:
                s.rollback()   # a check only: nothing of it stays
        return page("confirm", app=summary, action=action, form=form.to_dict(flat=False), **preview)
    try:
        with rt().sessions.begin() as s:
            app = _load(s, me, app_id)
            _verb(s, app, action, form)()
    except DomainError as exc:
        return _refused(me, exc, number, app_id)
    return headers(redirect(f"/admin/applications/{app_id}?done={action}", code=303))


def _refused(me: Signed, exc: DomainError, number: str, app_id: int) -> Response:
    """The verb said no: say why in chat's words; a gate refusal is audited, as in chat."""
    if isinstance(exc, NotAllowed):
        with rt().sessions.begin() as s:
            audit.record(s, actor=me.userid, action="access.refused", now=now(),
                         subject=str(exc.data.get("action", "")), role=exc.data.get("role"),
                         application=app_id, via="workbench")
    return page("action_refused", 409, number=number, app_id=app_id, text=message(f"errors.{exc.code}", **exc.data))


def _preview(s, app, action: str, form) -> dict[str, Any]:  # noqa: ANN001
    """What the confirmation page shows (read inside the rolled-back check)."""
    settings = rt().settings
    if action == "supplement":
        request_row = review.open_request(s, app.id)
        return {"items": [review.vars_of(i) for i in review.owed(settings, request_row)],
                "deadline": request_row.deadline, "reason": ""}
    return {"items": [], "deadline": None, "reason": review.clean_reason(form.get("reason")) if action == "reject" else ""}
