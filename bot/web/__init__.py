"""Web pages of the app: upload pages (materials, complaint evidence) and the read-only material view."""
from __future__ import annotations

import datetime as dt
from typing import Callable

from flask import Flask

from workflows.core.settings import Settings

from ..render import Renderer
from .tokens import Links


def install_links(renderer: Renderer, settings: Settings, clock: Callable[[], dt.datetime]) -> Links:
    """Let templates build signed links: `upload_url(app_id, item, to)` and `materials_url(app_id, to)`."""
    links = Links(settings, clock)
    renderer.env.globals["upload_url"] = links.upload_url
    renderer.env.globals["materials_url"] = links.materials_url
    renderer.env.globals["evidence_url"] = links.evidence_url
    renderer.card_link = links.card_url
    return links


def register(app: Flask, runtime) -> None:  # noqa: ANN001
    """Register the upload, material-view, complaint-evidence, card and public complaint pages and the workbench."""
    from . import admin
    from .cards import bp as cards_bp
    from .complaints import bp as complaints_bp
    from .evidence import bp as evidence_bp
    from .pages import bp
    app.register_blueprint(bp)
    app.register_blueprint(evidence_bp)
    admin.register(app, runtime)
    app.register_blueprint(cards_bp)
    app.register_blueprint(complaints_bp)
    # The client's address (the complaint page's per-address limit) comes from waitress: it believes a
    # forwarded address only from `[server] trusted_proxy` (bot/serve.py `waitress_options`).
