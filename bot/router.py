"""Routes inbound callbacks to handlers: text commands, conversation flows, card keys, events."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflows import apply
from workflows.apply.models import Application
from workflows.core import access, audit, conversation, notices, people, pledges
from workflows.core.models import Conversation, DirectoryName
from workflows.core.people import Member
from workflows.core.settings import Settings

from . import outbox
from .wecom.inbound import CardEvent, Event, Inbound, Media, Text

APPLICANT = "applicant"
CANCEL = "取消"
# The contact name of the member's application and his directory name, in one cached Core query
# (the help, greeting and error replies of every member not on the roster ask for it).
_KNOWN_NAME = select(
    select(Application.contact_name).where(Application.edition == bindparam("edition"),
                                           Application.applicant == bindparam("userid")).scalar_subquery(),
    select(DirectoryName.name).where(DirectoryName.userid == bindparam("userid")).scalar_subquery())

# Chat words a member who has not signed the confidentiality pledge may still use (to sign it).
PLEDGE_FREE = frozenset({"保密承诺"})

@dataclass
class Context:
    """What a handler gets: the transaction, the sender, the time and a way to reply."""

    session: Session
    settings: Settings
    now: dt.datetime
    userid: str
    person: Member | None
    inbound: Inbound | None = None
    services: dict[str, Any] = field(default_factory=dict)
    removed: bool = False  # a member who was taken off the roster: no powers at all (access.INACTIVE)

    @property
    def role(self) -> str:
        """The sender's role as the gate sees it: roster role, 'applicant' (not on it) or 'inactive' (removed)."""
        if self.removed:
            return access.INACTIVE
        return self.person.role if self.person else APPLICANT

    def reply(self, kind: str, **data: Any) -> None:
        """Queue a message back to the sender (rendered from templates/ before commit)."""
        renderer = self.services.get("renderer")
        if renderer is None:
            notices.notify(self.session, self.userid, kind, now=self.now, _reply=True, **data)
        else:
            outbox.queue_rendered(self.session, renderer, self.userid, kind, now=self.now, _reply=True, **data)

    @property
    def name(self) -> str:
        """How to address the sender, never by userid: the roster name, the contact name of his application,
        else the WeCom directory name (looked up once; "" until known)."""
        return self.known_name(lookup=True)

    def known_name(self, *, lookup: bool = False) -> str:
        """The sender's name as far as known ("" if not); `lookup` queues a directory look-up the first time."""
        if self.person is not None:
            return self.person.name
        if not lookup and not self.session.new and not self.session.dirty:  # nothing unflushed: read directly
            contact, listed = self.session.connection().execute(
                _KNOWN_NAME, {"edition": self.settings.award.edition_key, "userid": self.userid}).one()
            return contact or (listed if listed and listed != self.userid else "")
        app = apply.get_for_applicant(self.session, self.settings, self.userid)
        if app is not None and app.contact_name:
            return app.contact_name
        if lookup:
            return people.directory_name(self.session, self.userid, now=self.now)
        row = self.session.get(DirectoryName, self.userid)
        return row.name if row is not None and row.name and row.name != self.userid else ""

    def conversation(self) -> Conversation | None:
        """The sender's current conversation."""
        return conversation.current(self.session, self.userid)


Handler = Callable[..., None]


@dataclass(frozen=True)
class Command:
    """A chat word (first token of a text message) and who may use it."""

    word: str
    handler: Handler
    verbs: tuple[str, ...] | None  # the access verbs behind the word (None: everyone)
    help_order: int
    primary: bool = True

    def allows(self, role: str) -> bool:
        """Whether a member of `role` may use this word (any of its verbs, by workflows.core.access)."""
        return self.verbs is None or any(access.allows(v, role) for v in self.verbs)


class Router:
    """One registration verb per kind of input; `route` picks the handler."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self.flows: dict[str, Handler] = {}
        self.cards: list[tuple[str, Handler]] = []
        self.private_cards: list[str] = []   # card keys whose ticks never reach the inbound log
        self.events: dict[str, Handler] = {}
        self.menu_keys: dict[str, str] = {}
        self.confirmations: dict[str, Handler] = {}
        self._words_for: dict[tuple[str, int], tuple[str, ...]] = {}

    def command(self, *words: str, verbs: tuple[str, ...] | None = None,
                order: int = 100) -> Callable[[Handler], Handler]:
        """Register a handler(ctx, args: str) for chat words; `verbs` (access policy) say who may use them."""
        def register(fn: Handler) -> Handler:
            for i, w in enumerate(words):
                self.commands[w] = Command(w, fn, tuple(verbs) if verbs else None, order, primary=i == 0)
            return fn
        return register

    def flow(self, name: str) -> Callable[[Handler], Handler]:
        """Register a handler(ctx, inbound, conv) for messages while a member is in this flow."""
        def register(fn: Handler) -> Handler:
            self.flows[name] = fn
            return fn
        return register

    def card(self, prefix: str, *, private: bool = False) -> Callable[[Handler], Handler]:
        """Register a handler(ctx, event, rest: str) for card events whose key starts with prefix.

        `private`: what was ticked (SelectedItems) is left out of the inbound log before it is stored.
        """
        def register(fn: Handler) -> Handler:
            if private:
                self.private_cards.append(prefix)
            self.cards.append((prefix, fn))
            self.cards.sort(key=lambda p: -len(p[0]))
            return fn
        return register

    def event(self, name: str) -> Callable[[Handler], Handler]:
        """Register a handler(ctx, event) for a plain event such as enter_agent."""
        def register(fn: Handler) -> Handler:
            self.events[name] = fn
            return fn
        return register

    def confirmed(self, action: str) -> Callable[[Handler], Handler]:
        """Register handler(ctx, params) run when a member confirms `action` (see bot/confirm.py)."""
        def register(fn: Handler) -> Handler:
            self.confirmations[action] = fn
            return fn
        return register

    def menu(self, key: str, word: str) -> None:
        """Treat an app-menu click with this key as typing the word."""
        self.menu_keys[key] = word

    def commands_for(self, role: str) -> list[str]:
        """The chat words this role may use, in help order (worked out once per role)."""
        key = (role, len(self.commands))
        words = self._words_for.get(key)
        if words is None:
            cmds = sorted((c for c in self.commands.values() if c.primary), key=lambda c: (c.help_order, c.word))
            words = self._words_for[key] = tuple(c.word for c in cmds if c.allows(role))
        return list(words)

    def is_private(self, inbound: Inbound) -> bool:
        """Whether this callback's selection must not be stored (a card registered `private`)."""
        return isinstance(inbound, CardEvent) and any(inbound.key.startswith(p) for p in self.private_cards)

    def route(self, ctx: Context, inbound: Inbound) -> None:
        """Dispatch one inbound callback."""
        ctx.inbound = inbound
        if ctx.removed and not self._open_to_everyone(inbound):
            self._refuse_removed(ctx, inbound)
        elif isinstance(inbound, Text):
            self._text(ctx, inbound.content.strip(), inbound)
        elif isinstance(inbound, CardEvent):
            self._card(ctx, inbound)
        elif isinstance(inbound, Event):
            if inbound.event == "click" and inbound.key in self.menu_keys:
                self._text(ctx, self.menu_keys[inbound.key], inbound)
            elif inbound.event in self.events:
                self.events[inbound.event](ctx, inbound)
        elif isinstance(inbound, Media):
            conv = ctx.conversation()
            if conv and conv.flow in self.flows:
                self.flows[conv.flow](ctx, inbound, conv)
            else:
                ctx.reply("common.unexpected_file")
        else:
            ctx.reply("common.unsupported", kind=inbound.raw.get("MsgType", ""))

    def _open_to_everyone(self, inbound: Inbound) -> bool:
        """Whether this input is a chat word anyone may use (help, stages): a removed member keeps only those."""
        if isinstance(inbound, Event) and inbound.event == "click":
            text = self.menu_keys.get(inbound.key, "")
        elif isinstance(inbound, Text):
            text = inbound.content.strip()
        else:
            return isinstance(inbound, Event) and not isinstance(inbound, CardEvent)
        command = self.commands.get(text.partition(" ")[0]) or self.commands.get(text)
        return text == CANCEL or (command is not None and command.verbs is None)

    @staticmethod
    def _refuse_removed(ctx: Context, inbound: Inbound) -> None:
        """A removed member's card click, file or word: refused, audited, nothing else happens."""
        conversation.end(ctx.session, ctx.userid)
        what = inbound.key if isinstance(inbound, CardEvent) else type(inbound).__name__.lower()
        audit.record(ctx.session, actor=ctx.userid, action="access.refused", now=ctx.now, subject=what[:200],
                     role=access.INACTIVE)
        ctx.reply("common.removed")

    def _text(self, ctx: Context, text: str, inbound: Inbound) -> None:
        word, _, args = text.partition(" ")
        if text == CANCEL:
            left = conversation.end(ctx.session, ctx.userid)
            ctx.reply("common.cancelled", had_flow=left)
            return
        matched = word if word in self.commands else text
        command = self.commands.get(matched)
        if command is not None:
            if not command.allows(ctx.role):
                ctx.reply("common.not_for_role", word=command.word, role=ctx.role)
                return
            if command.verbs is not None and command.word not in PLEDGE_FREE and pledges.unsigned(
                    ctx.session, ctx.settings, ctx.userid, ctx.role):   # §五(三): he sees nothing before signing
                ctx.reply("errors.confidentiality_required", action=command.word)
                return
            command.handler(ctx, args.strip() if matched == word else "")
            return
        conv = ctx.conversation()
        if conv and conv.flow in self.flows:
            self.flows[conv.flow](ctx, inbound, conv)
            return
        ctx.reply("common.hint", text=text[:50], commands=self.commands_for(ctx.role), role=ctx.role)

    def _card(self, ctx: Context, event: CardEvent) -> None:
        for prefix, handler in self.cards:
            if event.key.startswith(prefix):
                handler(ctx, event, event.key[len(prefix):])
                return
        ctx.reply("common.card_unknown")
