"""The feedback report (反馈报告) as a Word file, and its release in chat: each reviewed applicant's own report,
drawn from templates/reports/feedback.md.j2 (the CLI and the workbench write Markdown and HTML from the same
data), stored in the document store and sent once (workflows.publicity.feedback)."""
from __future__ import annotations

import io
from typing import Any

from sqlalchemy.orm import Session

from workflows import publicity
from workflows.core.settings import Settings
from workflows.documents.filetypes import AllowedTypes
from workflows.scoring.feedback import feedback_data

from .approval import markdown_docx
from .render import Renderer

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def file_name(data: dict[str, Any]) -> str:
    """`<application number>-反馈报告.docx`."""
    return f"{data['number']}-反馈报告.docx"


def docx(renderer: Renderer, data: dict[str, Any]) -> bytes:
    """One applicant's report as Word."""
    return markdown_docx(renderer.text("reports/feedback.md.j2", f=data))


def release(session: Session, settings: Settings, renderer: Renderer, documents: Any, *, actor: str, now: Any,
            holds: list[str] = ()) -> list[Any]:
    """Draw and store each due applicant's Word report, then release them."""
    files = {}
    for app in publicity.feedback.due(session, settings, list(holds)):
        data = feedback_data(session, settings, app.number or "")
        content = docx(renderer, data)
        stored = documents.store(io.BytesIO(content), original_name=file_name(data),
                                 allowed=AllowedTypes.from_config(["docx"]), max_bytes=len(content))
        files[app.id] = (stored.sha256, file_name(data))
    return publicity.feedback.release(session, settings, actor=actor, now=now, files=files, holds=list(holds))
