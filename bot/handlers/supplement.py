"""The applicant's supplement mode (补正): only the requested items, chosen by number, supplied as chat files.

`resume(ctx, app)` is what the applicant's `申报` calls while the application is in `supplement`.
Files go through `notices.fetch_media`; the sender hands them to the one intake (`workflows.intake`),
which records them and marks the requested item supplied.
"""
from __future__ import annotations



from workflows.core import conversation, notices
from workflows import review
from workflows.apply.models import Application
from workflows.core.models import Conversation
from workflows.review.models import SupplementRequest

from ..media import PURPOSE
from workflows import intake
from ..router import Context, Router
from ..wecom.inbound import Inbound, Media, Text

Step = review.SupplementStep


def register(router: Router) -> None:
    """Register the supplement flow."""

    @router.flow(review.SUPPLEMENT_FLOW)
    def on_supplement(ctx: Context, inbound: Inbound, conv: Conversation) -> None:
        app = ctx.session.get(Application, int((conv.data or {}).get("application_id", 0)))
        if app is not None and app.edition != ctx.settings.award.edition_key:
            app = None  # a conversation left over from another edition
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
    # The numbers are those of the list the applicant was shown: every requested item, supplied or not
    # (a supplied one may be sent again while the request is open).
    items = list(request.items)
    by_name = {ctx.settings.award.material(i.item_key).name: i for i in items}
    chosen = items[int(text) - 1] if text.isdigit() and 1 <= int(text) <= len(items) else by_name.get(text)
    if chosen is None:
        if text.isdigit():
            ctx.reply("supplement.bad_choice", count=len(items))
        else:
            show_status(ctx, app, request)
        return
    conversation.advance(conv, Step.UPLOAD, now=ctx.now, item_key=chosen.item_key)
    m = ctx.settings.award.material(chosen.item_key)
    ctx.reply("supplement.ask_file", name=m.name, kinds=m.kinds, max_mb=m.max_mb, reason=chosen.reason,
              application_id=app.id, item_key=m.key)


def _on_file(ctx: Context, media: Media, conv: Conversation, app: Application, pending: list) -> None:  # noqa: ANN001
    request = review.open_request(ctx.session, app.id)
    items = review.owed(ctx.settings, request, pending_only=False) if request is not None else ()
    key = (conv.data or {}).get("item_key") if conv.step == Step.UPLOAD else None
    if key is None and len(pending) == 1:
        key = pending[0].item_key
    if key is None or key not in {i.key for i in items}:
        ctx.reply("supplement.choose_first", count=len(items), items=[review.vars_of(i) for i in items])
        return
    notices.fetch_media(ctx.session, ctx.userid, media_id=media.media_id, purpose=PURPOSE, now=ctx.now,
                        filename=media.filename[:200], **intake.Target("material", app.id, key).data())
    ctx.reply("supplement.checking", name=ctx.settings.award.material(key).name)
    # The next file goes to the next owed item only after the applicant chooses it (or when one is left).
    conversation.advance(conv, Step.CHOOSE, now=ctx.now, item_key=None)
