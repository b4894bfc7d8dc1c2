"""The applicant's supplement mode (补正): only the requested items, chosen by number, supplied as chat files.

`resume(ctx, app)` is what the applicant's `申报` calls while the application is in `supplement`.
Files go through `notices.fetch_media(purpose="supplement")`; `media_handler(settings)` (registered in
bot/runtime.py) stores them safely and calls `workflows.review.supply_item`.
"""
from __future__ import annotations

import datetime as dt
import io
from typing import Any, Callable

from sqlalchemy.orm import Session

from workflows import application, conversation, notices, review
from workflows.documents import DocumentRejected
from workflows.errors import DomainError
from workflows.model import Application, Conversation, OutboxMessage, SupplementRequest
from workflows.settings import Settings

from .. import media
from ..router import Context, Router
from ..wecom.inbound import Inbound, Media, Text

Step = review.SupplementStep


def register(router: Router) -> None:
    """Register the supplement flow."""

    @router.flow(review.SUPPLEMENT_FLOW)
    def on_supplement(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
        app = ctx.session.get(Application, int((conv.data or {}).get("application_id", 0)))
        request = review.open_request(ctx.session, app.id) if app is not None else None
        if app is None or request is None or app.applicant != ctx.userid:
            conversation.end(ctx.session, ctx.userid)
            ctx.reply("supplement.nothing")
            return
        pending = [i for i in request.items if i.status != "supplied"]
        if isinstance(inbound, Media):
            _on_file(ctx, inbound, conv, app, pending)
        elif isinstance(inbound, Text):
            _on_text(ctx, inbound.content.strip(), conv, app, request)
        else:
            show_status(ctx, app, request)


def resume(ctx: Context, app: Application) -> None:
    """Enter supplement mode for this application and show what is still owed (or say nothing is)."""
    request = review.open_request(ctx.session, app.id)
    if request is None:
        ctx.reply("supplement.nothing")
        return
    pending = [i for i in request.items if i.status != "supplied"]
    conv = conversation.start(ctx.session, ctx.userid, review.SUPPLEMENT_FLOW, Step.CHOOSE, now=ctx.now,
                              application_id=app.id)
    if len(pending) == 1:
        conversation.advance(conv, Step.UPLOAD, now=ctx.now, item_key=pending[0].item_key)
    show_status(ctx, app, request)


def show_status(ctx: Context, app: Application, request: SupplementRequest | None = None) -> None:
    """The 进度-like view of a supplement: every requested item, supplied or still owed."""
    request = request or review.open_request(ctx.session, app.id)
    if request is None:
        ctx.reply("supplement.nothing")
        return
    items = review.owed(ctx.settings, request, pending_only=False)
    pending = [i for i in items if not i.supplied]
    ctx.reply("supplement.status", app=review.summary(ctx.settings, app), items=[review.vars_of(i) for i in items],
              missing=len(pending), deadline=review.iso(request.deadline),
              current=pending[0].name if len(pending) == 1 else "")


def _on_text(ctx: Context, text: str, conv: Conversation, app: Application, request: SupplementRequest) -> None:
    pending = [i for i in request.items if i.status != "supplied"]
    by_name = {ctx.settings.award.material(i.item_key).name: i for i in pending}
    chosen = pending[int(text) - 1] if text.isdigit() and 1 <= int(text) <= len(pending) else by_name.get(text)
    if chosen is None:
        if text.isdigit():
            ctx.reply("supplement.bad_choice", count=len(pending))
        else:
            show_status(ctx, app, request)
        return
    conversation.advance(conv, Step.UPLOAD, now=ctx.now, item_key=chosen.item_key)
    m = ctx.settings.award.material(chosen.item_key)
    ctx.reply("supplement.ask_file", name=m.name, kinds=m.kinds, max_mb=m.max_mb, reason=chosen.reason,
              application_id=app.id, item_key=m.key)


def _on_file(ctx: Context, media: Media, conv: Conversation, app: Application, pending: list) -> None:  # noqa: ANN001
    key = (conv.data or {}).get("item_key") if conv.step == Step.UPLOAD else None
    if key is None and len(pending) == 1:
        key = pending[0].item_key
    if key is None or key not in {i.item_key for i in pending}:
        ctx.reply("supplement.choose_first", count=len(pending))
        return
    notices.fetch_media(ctx.session, ctx.userid, media_id=media.media_id, purpose="supplement", now=ctx.now,
                        application_id=app.id, item_key=key, filename=media.filename[:200])
    ctx.reply("supplement.checking", name=ctx.settings.award.material(key).name)
    # The next file goes to the next owed item only after the applicant chooses it.
    conversation.advance(conv, Step.CHOOSE, now=ctx.now, item_key=None)


def media_handler(settings: Settings) -> Callable[..., None]:
    """The sender's handler for downloaded supplement files: store, record, supply, tell the applicant."""
    store = media.document_store(settings)

    def handle(session: Session, row: OutboxMessage, content: bytes | None, filename: str, error: str | None,
               now: dt.datetime) -> None:
        data: dict[str, Any] = row.data or {}
        userid, key = row.recipient, str(data.get("item_key", ""))
        try:
            m = settings.award.material(key)
        except KeyError:
            notices.notify(session, userid, "errors.document_mismatch", now=now)
            return
        if content is None or error:
            notices.notify(session, userid, "supplement.download_failed", now=now, name=m.name)
            return
        name = filename or str(data.get("filename") or "")
        try:
            stored = media.store_upload(store, settings, key, io.BytesIO(content), name)
        except DocumentRejected as exc:
            notices.notify(session, userid, "supplement.file_rejected", now=now, name=m.name, code=exc.code,
                           kinds=m.kinds, max_mb=m.max_mb)
            return
        try:
            with session.begin_nested():
                # The same service as the upload page: it records the document and marks the item supplied.
                application.attach_document(session, settings, application_id=int(data["application_id"]),
                                            item_key=key, stored=stored, source="chat", actor=userid, now=now)
        except DomainError as exc:
            notices.notify(session, userid, f"errors.{exc.code}", now=now, **exc.data)

    return handle
