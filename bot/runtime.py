"""Assembles the real parts from settings: database, renderer, WeCom client, sender, dispatcher."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import workflows.edition  # noqa: F401  (wires the stages' hand-offs before any workflow runs)
from workflows.core import access
from workflows.core import clock as server_clock
from workflows.core.db import make_engine, make_session_factory
from workflows.core.settings import Settings
from workflows.documents.store import DocumentStore

from . import media, web
from .dispatch import Dispatcher
from .handlers import build_router
from .outbox import install_render_hook
from .render import Renderer
from .sender import Sender
from .wakeup import Wakeup
from .wecom.client import WeComClient
from .wecom.crypto import Verifier


def utcnow() -> dt.datetime:
    """Wall-clock time, aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Runtime:
    """Everything a process needs, built once from settings."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    renderer: Renderer
    verifier: Verifier
    client: WeComClient
    dispatcher: Dispatcher
    sender: Sender
    clock: Callable[[], dt.datetime] = utcnow
    services: dict[str, Any] = field(default_factory=dict)
    scheduler_state: str = "not running"

    @property
    def storage_dir(self) -> Path:
        """Where documents are stored."""
        return Path(self.settings.storage.dir)


def build_runtime(settings: Settings, *, clock: Callable[[], dt.datetime] = utcnow,
                  engine: Engine | None = None) -> Runtime:
    """Build the runtime (nothing connects to WeCom until the sender runs)."""
    engine = engine or make_engine(settings.database.url)
    sessions = make_session_factory(engine)
    access.delegate(access.delegated_by(settings))   # what menus and pages show the agency
    server_clock.install(sessions, clock, time_travel=settings.server.time_travel)
    renderer = Renderer(settings)
    install_render_hook(sessions, renderer)
    wakeup = Wakeup()
    wakeup.install(sessions)
    w = settings.wecom
    verifier = Verifier(w.token, w.encoding_aes_key, w.corp_id, w.timestamp_tolerance_seconds,
                        tuple(w.linked_corp_ids))
    client = WeComClient(corp_id=w.corp_id, secret=w.secret, api_base_url=w.api_base_url,
                         timeout=w.request_timeout_seconds, sessions=sessions, clock=clock)
    services: dict[str, Any] = {"renderer": renderer}
    dispatcher = Dispatcher(sessions, settings, build_router(), services)
    sender = Sender(sessions, client, settings, clock=clock, mark_repeat=renderer.repeat_mark)
    sender.wakeup = wakeup
    rt = Runtime(settings, engine, sessions, renderer, verifier, client, dispatcher, sender, clock, services)
    services["runtime"] = rt
    # The one document store: chat attachments, send_file and the upload pages all use it.
    services["documents"] = store = DocumentStore.from_settings(settings.storage)
    sender.open_document = media.document_opener(store, sessions)
    sender.media_limits = media.download_limits(settings)
    on_download = media.download_handler(store, settings)
    for purpose in (media.PURPOSE, *media.LEGACY_PURPOSES):
        sender.media_handlers[purpose] = on_download
    services["links"] = web.install_links(renderer, settings, clock)
    services.setdefault("web_blueprints", []).append(web.register)
    return rt
