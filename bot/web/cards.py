"""GET/POST /card/<token>: the page that stands in for an interactive card.

linkedcorp/message/send cannot carry a template_card, so a linked-corp member gets a textcard that links
here (bot/render.py). The page shows the card as it stands now and turns a choice into the same
`template_card_event` a click in WeCom would make, through the same dispatcher: router, access gate,
audit and the replies in chat are the card's own. A card kind may declare its own page
(`templates/pages/cards/<kind>.html.j2`); every other kind gets the generic `pages/card.html.j2`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, redirect, request
from jinja2 import TemplateNotFound
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core.models import CardTask, OutboxMessage

from ..render import Renderer
from ..wecom.inbound import CardEvent
from .pages import _pages, _plain, _read, _rt, error_page, page

bp = Blueprint("cards", __name__)
GENERIC_PAGE = "card"


@dataclass(frozen=True)
class CardView:
    """A card as its recipient sees it now: the JSON, whether it is closed, and the grey label."""

    kind: str
    card: dict[str, Any]
    closed: bool
    label: str


def current_card(session: Session, renderer: Renderer, task: CardTask) -> CardView:
    """The card of `task` as it stands: the sent card, replaced by its latest update (if any)."""
    sent = session.get(OutboxMessage, task.outbox_id) if task.outbox_id else None
    kind = sent.kind if sent is not None else task.kind
    card = renderer.card_json(task.recipient, kind, sent.data if sent is not None else {"task_id": task.task_id})
    label = ""
    updates = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == task.recipient,
                                                          OutboxMessage.action == "update_card")
                              .order_by(OutboxMessage.id.desc()))
    latest = next((u for u in updates if (u.data or {}).get("task_id") == task.task_id), None)
    if latest is not None:
        if "replace_name" in latest.data:
            labels = renderer.env.get_template("_labels.j2").module.buttons  # type: ignore[attr-defined]
            label = labels.get(latest.data["replace_name"], latest.data["replace_name"])
        else:
            card = renderer.card_json(task.recipient, latest.kind, latest.data)
            label = str(card.get("replace_text") or "")
    return CardView(kind, card, task.status != "open", label)


def _csrf(token: str) -> str:
    key = _rt().settings.server.secret_key.encode()
    return hmac.new(key, f"card-form:{token}".encode(), hashlib.sha256).hexdigest()


def _template(renderer: Renderer, kind: str) -> str:
    """The kind's own page if it declares one, else the generic card page."""
    own = renderer.card_template(kind).removeprefix("cards/").removesuffix(".json.j2")
    try:
        _pages().get_template(f"pages/cards/{own}.html.j2")
        return f"cards/{own}"
    except TemplateNotFound:
        return GENERIC_PAGE


def choice(card: dict[str, Any], form: Any) -> tuple[str, dict[str, tuple[str, ...]]]:
    """(event key, selected options) from the page's form, checked against the card; ValueError if not on it."""
    ctype = card.get("card_type")
    selected: dict[str, tuple[str, ...]] = {}
    if ctype == "button_interaction":
        key = str(form.get("key") or "")
        if key not in {str(b.get("key")) for b in card.get("button_list") or [] if b.get("key")}:
            raise ValueError("button")
        sel = card.get("button_selection")
        if sel:
            chosen = str(form.get("sel") or sel.get("selected_id") or "")
            if chosen not in {str(o.get("id")) for o in sel.get("option_list") or []}:
                raise ValueError("selection")
            selected[str(sel.get("question_key") or "")] = (chosen,)
        return key, selected
    submit = card.get("submit_button") or {}
    if ctype == "vote_interaction":
        box = card.get("checkbox") or {}
        ids = {str(o.get("id")) for o in box.get("option_list") or []}
        chosen = tuple(dict.fromkeys(str(v) for v in form.getlist("opt")))
        if not chosen or not set(chosen) <= ids or (box.get("mode") != 1 and len(chosen) != 1):
            raise ValueError("checkbox")
        selected[str(box.get("question_key") or "")] = chosen
    elif ctype == "multiple_interaction":
        for q in card.get("select_list") or []:
            qk = str(q.get("question_key") or "")
            value = str(form.get(f"q:{qk}") or q.get("selected_id") or "")
            if value not in {str(o.get("id")) for o in q.get("option_list") or []}:
                raise ValueError("select")
            selected[qk] = (value,)
    else:
        raise ValueError("not interactive")
    if not submit.get("key"):
        raise ValueError("no submit")
    return str(submit["key"]), selected


def _submission(private: bool, form_nonce: str, key: str, selected: dict[str, tuple[str, ...]]) -> str:
    """What makes a page's choice one callback (its de-duplication key, issue 22.10): the served form and the
    choice made on it — the same form sent twice (a double tap, a reload) is one choice, a different choice is
    another, however close in time. A private card's choice (a ballot) must not be derivable from the stored key,
    so each of its posts is its own (the ballot itself refuses a second vote)."""
    if private or not 8 <= len(form_nonce) <= 64 or not form_nonce.isalnum():
        return secrets.token_hex(16)
    choice_made = json.dumps([key, sorted(selected.items())], ensure_ascii=False)
    return f"{form_nonce}:{hashlib.sha256(choice_made.encode()).hexdigest()[:32]}"


@bp.route("/card/<token>", methods=["GET", "POST"])
def card_page(token: str) -> Response:
    """Show a card as a page, or act on the choice made on it."""
    rt = _rt()
    data, refused = _read(rt.services["links"].read_card, token)
    if refused:
        return refused
    task_id, userid = str(data["t"]), str(data["u"])
    with rt.sessions() as s:
        task = s.get(CardTask, task_id)
        if task is None or task.recipient != userid:
            return error_page("pages.link_invalid", 403)
        view = current_card(s, rt.renderer, task)
    context = {"view": view, "card": view.card, "token": token, "csrf": _csrf(token),
               "done": request.args.get("done") == "1", "form_nonce": secrets.token_hex(16)}
    name = _template(rt.renderer, view.kind)
    if request.method == "GET":
        return page(name, **context)
    if not hmac.compare_digest(str(request.form.get("csrf") or ""), context["csrf"]):
        return error_page("pages.link_invalid", 403)
    if view.closed:
        return page(name, 409, **context, problem=_plain("pages.card_closed"))
    try:
        key, selected = choice(view.card, request.form)
    except ValueError:
        return page(name, 400, **context, problem=_plain("pages.card_bad_choice"))
    now = rt.clock()
    settings = rt.settings
    raw = {"ToUserName": settings.wecom.corp_id, "FromUserName": userid, "CreateTime": str(int(now.timestamp())),
           "MsgType": "event", "Event": "template_card_event", "EventKey": key, "TaskId": task_id,
           "CardType": str(view.card.get("card_type") or ""), "ResponseCode": "", "AgentID": str(settings.wecom.agent_id),
           "Via": "card_page"}
    event = CardEvent(userid=userid, create_time=int(now.timestamp()), agent_id=str(settings.wecom.agent_id), raw=raw,
                      key=key, task_id=task_id, card_type=raw["CardType"], response_code="", selected=selected)
    raw["Submission"] = _submission(rt.dispatcher.router.is_private(event), str(request.form.get("n") or ""),
                                    key, selected)
    rt.dispatcher.handle(event, now, inline=True)  # the page it redirects to shows the outcome
    return redirect(f"/card/{token}?done=1", code=303)
