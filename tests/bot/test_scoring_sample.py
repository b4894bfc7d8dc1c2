"""The sample edition's expert-review steps drive the real services from accepted applications to the vote."""
from sqlalchemy import select

from workflows import experts, results, scoring, stages
from workflows.model import ScoreSheet

from bot import sample
from bot.samples import scoring as sample_scoring
from tests.workflows.scoringdata import T_MATERIAL, add_application


def test_sample_steps_from_material_to_vote(sessions, settings):
    regions = ["440203", "440204", "440205", "440222", "440224", "440229", "440281"]
    with sessions.begin() as s:
        sample.run(s, settings, "apply", T_MATERIAL)
        for n, region in enumerate(regions, start=1):
            add_application(s, settings, n, region=region)
        sample_scoring.to_material(s, settings, T_MATERIAL)
        assigned = experts.assignments(s, "material")
        assert len(assigned) == 7 and all(len(v) == 5 for v in assigned.values())
        assert s.scalars(select(ScoreSheet)).all() == []
        sample_scoring.to_site(s, settings, T_MATERIAL)
        assert not scoring.unscored_assignments(s, settings, "material")
        candidates = results.shortlist(s, settings, "site")
        assert 5 <= len(candidates) <= settings.award.rules.candidates_max
        assert stages.status(s, settings, "site") == "open"
        assert set(experts.assignments(s, "site")) == {c.application_id for c in candidates}
        sample_scoring.to_vote(s, settings, T_MATERIAL)
        top = results.final_top(s, settings)
        assert len(top) == settings.award.rules.vote_top
        assert [c for _, c, _, _ in top] == sorted((c for _, c, _, _ in top), reverse=True)
        assert stages.status(s, settings, "vote") == "open"
        assert results.report_confirmation(s, settings, "site") is not None


def test_steps_are_registered_in_stage_order():
    mine = [(stage, order) for stage, order, fn in sample.STEPS if fn.__module__ == "bot.samples.scoring"]
    assert mine == [("material", 10), ("site", 0), ("vote", 0)]
