"""Request body limits by path: what each part of the app accepts at most, so that the WSGI server (waitress)
and the reverse proxy in front (deploy/nginx/awardbot.conf) never cut a request the app would take."""
from __future__ import annotations

from workflows.core.settings import Settings

from .pages import FORM_OVERHEAD


def complaint_form(settings: Settings) -> int:
    """The public complaint form with its evidence files: every file at its cap, plus the form around them."""
    return settings.complaint_page.max_files * (settings.award.rules.complaint_evidence_max_mb << 20) + FORM_OVERHEAD


def body_limits(settings: Settings) -> dict[str, int]:
    """The largest body, in bytes, each path that takes one accepts (other paths take small forms only)."""
    return {
        "/wecom/callback": settings.wecom.callback_max_bytes,
        "/upload/": max(m.max_bytes for m in settings.award.materials) + FORM_OVERHEAD,
        "/evidence/": (settings.award.rules.complaint_evidence_max_mb << 20) + FORM_OVERHEAD,
        "/complaints": complaint_form(settings),
    }


def largest(settings: Settings) -> int:
    """The largest body any path accepts: the WSGI server's own cap."""
    return max(body_limits(settings).values())
