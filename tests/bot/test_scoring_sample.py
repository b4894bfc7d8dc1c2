"""The sample edition's expert-review steps drive the real services from accepted applications to the vote."""
from sqlalchemy import select

from workflows import scoring
from workflows.core import stages
from workflows.apply.models import Application
from workflows.scoring.models import ScoreSheet

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
        assigned = scoring.assignments(s, settings, "material")
        assert len(assigned) == 7 and all(len(v) == 5 for v in assigned.values())
        assert s.scalars(select(ScoreSheet)).all() == []
        sample_scoring.to_site(s, settings, T_MATERIAL)
        assert not scoring.unscored_assignments(s, settings, "material")
        candidates = scoring.shortlist(s, settings, "site")
        assert 5 <= len(candidates) <= settings.award.rules.candidates_max
        assert stages.status(s, settings, "site") == "open"
        assert set(scoring.assignments(s, settings, "site")) == {c.application_id for c in candidates}
        sample_scoring.to_vote(s, settings, T_MATERIAL)
        top = scoring.final_top(s, settings)
        assert len(top) == settings.award.rules.vote_top
        assert [c for _, c, _, _ in top] == sorted((c for _, c, _, _ in top), reverse=True)
        assert stages.status(s, settings, "vote") == "open"
        assert scoring.report_confirmation(s, settings, "site") is not None
        # 现场核实问题 (issue 25.3): issues for every visited enterprise, a finding from each expert of the visit
        from workflows.scoring import siteissues
        from workflows.scoring.models import SiteFinding, SiteIssue
        issues = s.scalars(select(SiteIssue)).all()
        assert {i.application_id for i in issues} == {c.application_id for c in candidates}
        findings = s.scalars(select(SiteFinding)).all()
        assert all(f.reason for f in findings if f.adjustment) and any(f.by_group for f in findings)
        sheet = siteissues.worksheet(s, settings, s.get(Application, candidates[0].application_id))
        assert sheet["issues"] and all(i["findings"] for i in sheet["issues"]) and sheet["items"][0]["site"]


def test_steps_are_listed_in_stage_order():
    mine = [stage for stage, fn in sample.STEPS if fn.__module__ == "bot.samples.scoring"]
    assert mine == ["material", "site", "vote"]
    order = [sample.SAMPLE_STAGES.index(stage) for stage, _ in sample.STEPS]
    assert order == sorted(order)
