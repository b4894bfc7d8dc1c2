"""The sample edition runs the real services from the call for applications to the award."""
from sqlalchemy import func, select

from bot import outbox, sample
from workflows.core import audit, stages
from workflows.core.models import OutboxMessage
from workflows import publicity
from workflows import voting
from workflows.apply.models import Application, AppStatus


def test_sample_reaches_the_award_through_every_stage(rt, clock):
    with rt.sessions.begin() as s:
        ran = sample.run(s, rt.settings, "award", clock())
    assert ran == ["apply", "review", "material", "site", "vote", "publicity", "award"]
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Application)
                        .where(Application.status == AppStatus.ACCEPTED)) == 8
        winners = voting.proposed_winners(s, rt.settings)
        assert len(winners) == rt.settings.award.rules.winners
        records = publicity.records(s, rt.settings)
        assert len(records) == 3 and all(r.prize_yuan == 500000 for r in records)
        open_stages = [st.key for st in rt.settings.award.stages if stages.status(s, rt.settings, st.key) == "open"]
        assert open_stages == ["award"]
        assert audit.verify(s).ok
        # Its later steps act days ahead (the notice's end), yet every message is due now: the demo's members
        # are answered at once (one clock).
        assert s.scalar(select(func.max(OutboxMessage.next_attempt_at))) <= clock()
        assert outbox.status(s, clock()).oldest_pending_seconds >= 0
    with rt.sessions.begin() as s:
        assert sample.run(s, rt.settings, "award", clock()) == []  # already there: nothing duplicated
