"""Assembles the real parts from settings: database, renderer, WeCom client, sender, dispatcher."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from workflows.db import make_engine, make_session_factory
from workflows.settings import Settings

from .dispatch import Dispatcher
from .handlers import build_router
from .handlers.complaints import make_media_handler as complaint_media_handler
from .outbox import install_render_hook
from .render import Renderer
from .sender import Sender
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
    renderer = Renderer(settings)
    install_render_hook(sessions, renderer)
    w = settings.wecom
    verifier = Verifier(w.token, w.encoding_aes_key, w.corp_id, w.timestamp_tolerance_seconds)
    client = WeComClient(corp_id=w.corp_id, secret=w.secret, api_base_url=w.api_base_url,
                         timeout=w.request_timeout_seconds, sessions=sessions, clock=clock)
    services: dict[str, Any] = {"renderer": renderer}
    dispatcher = Dispatcher(sessions, settings, build_router(), services)
    sender = Sender(sessions, client, settings, clock=clock)
    from .handlers import supplement
    sender.media_handlers["supplement"] = supplement.media_handler(settings)
    sender.media_handlers["complaint"] = complaint_media_handler(settings)
    rt = Runtime(settings, engine, sessions, renderer, verifier, client, dispatcher, sender, clock, services)
    services["runtime"] = rt
    # Application materials: the document store, chat attachments, send_file and the upload pages.
    from . import media, web
    services["documents"] = store = media.document_store(settings)
    sender.open_document = media.document_opener(store, sessions)
    sender.media_handlers[media.PURPOSE] = media.material_handler(store, settings)
    services["links"] = web.install_links(renderer, settings, clock)
    services.setdefault("web_blueprints", []).append(web.register)
    return rt
