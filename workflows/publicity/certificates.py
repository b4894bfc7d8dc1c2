"""Stage 9 表彰: the winners' numbered 证书 ("由市政府表彰奖励，颁发奖牌和证书").

After the announcement the secretariat issues one certificate per approved winner, in the approval's order:
a number of its own kind (`[award.application] certificate_prefix`, ZS2018-001 …, workflows.core.numbers) and
the date printed on it. Issuing is once per winner: a second issue adds only winners still without one (none
after the first, as the approved list does not change after the announcement), and a number is never reused.
The document itself (Word, HTML) is drawn by the bot from `templates/reports/certificate.md.j2` and its data
here, the same every time it is downloaded.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, numbers
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.core.settings import Settings
from workflows.publicity.award import current_approval
from workflows.publicity.models import Certificate
from workflows.publicity.record import describe


def issued(session: Session, settings: Settings) -> list[Certificate]:
    """The edition's certificates in number order."""
    return list(session.scalars(select(Certificate).where(Certificate.edition == settings.award.edition_key)
                                .order_by(Certificate.id)))


def _announced(session: Session, settings: Settings) -> Any:
    approval = current_approval(session, settings)
    if approval is None or approval.announced_at is None:
        raise InvalidInput("certificate_before_announcement")
    return approval


@access.guarded("award.manage")
def issue(session: Session, settings: Settings, *, actor: str, now: dt.datetime) -> list[Certificate]:
    """Number a certificate for every announced winner that has none; audited. AlreadyDone if all have one."""
    approval = _announced(session, settings)
    have = {c.application_id for c in issued(session, settings)}
    day = now.astimezone(settings.award.tz).date().isoformat()
    new = []
    for app_id in approval.approved:
        if app_id in have:
            continue
        cert = Certificate(edition=settings.award.edition_key, application_id=app_id,
                           number=numbers.allocate(session, settings, "certificate", Certificate), issued_on=day,
                           issued_by=actor, issued_at=now)
        session.add(cert)
        session.flush()
        new.append(cert)
        audit.record(session, actor=actor, action="award.certificate", subject=f"application:{app_id}", now=now,
                     number=cert.number, issued_on=day)
    if not new:
        raise AlreadyDone("certificates_already_issued", count=len(have))
    return new


def data(session: Session, settings: Settings, ref: str) -> dict[str, Any]:
    """What one certificate prints, by its number or the winner's application number; NotFound otherwise."""
    ref = ref.strip()
    for cert in issued(session, settings):
        winner = describe(session, cert.application_id)
        if ref in (cert.number, winner["number"]):
            approval = current_approval(session, settings)
            return {"number": cert.number, "winner": winner, "issued_on": cert.issued_on,
                    "document_number": approval.document_number if approval else "",
                    "approved_on": approval.approved_on if approval else ""}
    raise NotFound("certificate_not_found", ref=ref[:40])
