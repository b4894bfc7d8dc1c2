"""The edition's wiring, in one place: what each stage owes (reminder providers) and the hand-offs between stages.

Import this module before running any workflow (the bot's runtime and the tests do): it subscribes
each later stage to the events an earlier stage announces (`workflows.core.events`) and lists the
obligation providers the reminder sweep asks (`workflows.core.reminders`).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from workflows.apply import obligations as apply_obligations
from workflows.call import obligations as call_obligations
from workflows.committee import obligations as committee_obligations
from workflows.core import events, reminders
from workflows.core.reminders import Provider
from workflows.core.settings import Settings
from workflows.review import formal
from workflows.review import obligations as review_obligations
from workflows.scoring import obligations as scoring_obligations
from workflows.publicity import obligations as publicity_obligations
from workflows.voting import obligations as voting_obligations

PROVIDERS: dict[str, tuple[Provider, ...]] = {
    "training": (call_obligations.training_attendees,),
    "apply": (apply_obligations.unfinished_applications, apply_obligations.recommenders_awaiting_opinion,
              apply_obligations.units_without_recommender),
    "review": (review_obligations.supplements_owed, review_obligations.reviews_undecided),
    "material": (scoring_obligations.material_sheets_owed, scoring_obligations.material_consensus_owed),
    "site": (scoring_obligations.site_sheets_owed, scoring_obligations.site_visits_owed,
             scoring_obligations.site_consensus_owed),
    "vote": (voting_obligations.ballots_owed,),
    # Whatever the stages' states: the secretariat's own milestones and the pledges (issue 23.15).
    reminders.ANY_STAGE: (committee_obligations.meeting_owed, call_obligations.call_owed,
                          call_obligations.training_owed, scoring_obligations.pledges_owed,
                          publicity_obligations.report_owed, publicity_obligations.approval_owed),
}



def announce_opening(session: Session, settings: Settings, *, actor: str, now: dt.datetime, stage: str,
                     **_: Any) -> None:
    """A stage opened: whoever waited for it and whoever owes something in it (its PROVIDERS) is told, once."""
    reminders.announce_opening(session, settings, stage, now=now, providers=PROVIDERS)


events.subscribe("application.endorsed", formal.on_endorsed)
# The opening notice first, then what each stage held back until it opened (e.g. the review cards).
events.subscribe("stage.opened", announce_opening)
events.subscribe("stage.opened", formal.on_stage_opened)
events.mark_wired()
