"""Stage 3 (征集, by 9-30): what the call for applications says, and where and when it was published."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, placeholders, stages
from workflows.core.errors import InvalidInput
from workflows.core.settings import Settings

from .models import CallPublication, TrainingEvent

LINK_MAX = 500
# The stages the call describes to enterprises (from applying to the award), in order [seed §三(五)–(九)].
PROCESS = ("apply", "review", "material", "site", "vote", "publicity", "approval", "award")


def call_data(session: Session, settings: Settings) -> dict[str, Any]:
    """Everything the channel texts of the call show, from the edition's configuration and calendar (refused while
    they would print an example contact: these texts are what the secretariat publishes)."""
    placeholders.require_real_contacts(settings, action="call_texts")
    award, call = settings.award, settings.award.call
    event = session.scalar(select(TrainingEvent).where(TrainingEvent.edition == award.edition_key))
    rules, rubric = award.rules, award.rubric
    return {
        "deadline": stages.deadline(session, settings, "apply"),
        "regions": [r.name for r in award.regions], "departments": list(award.departments),
        # [seed §二] as the plan words them, then the configured conditions the plan does not name
        "conditions": list(call.conditions) + [q.condition for q in award.eligibility
                                               if q.kind == "must_yes" and q.condition],
        "not_legal_persons": [t.name for t in award.enterprise_types if not t.legal_person],
        "registration_kinds": list(award.registration_kinds),
        "standard": rubric.standard, "guide": rubric.guide, "total": rubric.total,
        "process": [{"key": k, "name": award.stage(k).name, "deadline": stages.deadline(session, settings, k)}
                    for k in PROCESS],
        "rules": {"candidates_max": rules.candidates_max, "material_gate": rules.material_gate,
                  "weight_material": rules.weight_material_percent, "weight_site": rules.weight_site_percent,
                  "vote_top": rules.vote_top, "publicity_days": rules.publicity_days},
        "publicity_channels": [call.channel_names.get(c, c) for c in rules.publicity_channels],
        "materials": [{"name": m.name, "required": m.required, "kinds": list(m.kinds), "max_mb": m.max_mb}
                      for m in award.materials if m.provided_by == "applicant"],
        "winners": award.rules.winners, "prize_yuan": award.rules.prize_yuan,
        "office": call.office or award.organizer, "address": call.address, "app_name": call.app_name,
        "join_guide": call.join_guide, "contacts": [c.model_dump() for c in call.contacts],
        "training": ({"title": event.title, "starts_at": event.starts_at, "place": event.place} if event else None),
        "channel_names": dict(call.channel_names),
    }


@access.guarded("call.publish")
def record_publication(session: Session, settings: Settings, *, actor: str, now: dt.datetime, channel: str,
                       published_on: dt.date, link: str = "") -> CallPublication:
    """Record that the call was published on a channel on a day (with its link); audited. Refused while the
    call's texts would print an example contact (nothing published with one can be recorded as the call)."""
    if channel not in settings.award.call.channels:
        raise InvalidInput("call_bad_channel", channel=channel, channels=list(settings.award.call.channels),
                           names=dict(settings.award.call.channel_names))
    link = link.strip()
    if len(link) > LINK_MAX or (link and not link.startswith(("http://", "https://"))):
        raise InvalidInput("call_bad_link", link=link[:80])
    if published_on > now.astimezone(settings.award.tz).date():
        raise InvalidInput("call_future_day", day=published_on.isoformat())
    placeholders.require_real_contacts(settings, action="call")   # after the input: a typo is told first
    row = CallPublication(edition=settings.award.edition_key, channel=channel, published_on=published_on, link=link,
                          recorded_by=actor, recorded_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="call.published", subject=f"call:{row.id}", now=now, channel=channel,
                 day=published_on.isoformat(), link=link)
    return row


def publications(session: Session, settings: Settings) -> list[CallPublication]:
    """The publication log of this edition's call, by day."""
    return list(session.scalars(select(CallPublication).where(CallPublication.edition == settings.award.edition_key)
                                .order_by(CallPublication.published_on, CallPublication.id)))
