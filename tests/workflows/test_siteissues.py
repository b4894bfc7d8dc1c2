"""Site-visit issues (issue 25.3): the leader lists issues per candidate; the visit's experts record findings; the
worksheet's site score per item is the material consensus adjusted by the findings, with their reasons."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.workflows.scoringdata import T_SITE, add_application, add_roster, open_phase, uniform
from workflows.core import stages
from workflows.core.errors import InvalidInput, NotAllowed, NotFound
from workflows.core.models import AuditEntry
from workflows.scoring import siteissues, visits
from workflows.scoring.models import ItemConsensus, ScoreSheet, Shortlist, SiteFinding, SiteIssue

NOW = T_SITE
VISIT = dt.datetime(2019, 1, 10, 1, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def world(sessions, settings):
    with sessions.begin() as s:
        add_roster(s, NOW)
        for n in (1, 2):
            app = add_application(s, settings, n, now=NOW)
            for expert, pct in (("e1", 50), ("e2", 60), ("e3", 70)):
                p = uniform(pct)
                s.add(ScoreSheet(edition=app.edition, phase="material", application_id=app.id, expert=expert,
                                 status="confirmed", percentages=p, total="0", created_at=NOW, updated_at=NOW,
                                 confirmed_at=NOW))
            if n == 1:
                s.add(Shortlist(edition=app.edition, kind="site", application_id=app.id, position=1, score="600",
                                decided_by="mishu", decided_at=NOW))
                s.add(ItemConsensus(edition=app.edition, phase="material", application_id=app.id, item_key="4.2.2",
                                    percent=55, reason="合议", recorded_by="zuzhang", recorded_at=NOW))
        open_phase(s, settings, "site", NOW)
        visits.propose(s, settings, actor="mishu", now=NOW, number="SG2018-001", starts_at=VISIT,
                       experts=["e1", "e2"], itinerary="9:00 座谈")
    return sessions


def _add(s, settings, actor="zuzhang", number="SG2018-001", item="4.2.2", verify="核实目标分解到班组"):
    return siteissues.add_issue(s, settings, actor=actor, now=NOW, number=number, item_key=item, verify=verify,
                                ask="战略部负责人", documents="年度目标责任书")


def test_the_leader_and_the_secretariat_list_issues_for_candidates_only(world, settings):
    with world.begin() as s:
        first = _add(s, settings)
        second = _add(s, settings, actor="mishu", item="4.4.2", verify="查看员工培训记录")
        assert (first.position, second.position) == (1, 2)
        cases = [(dict(number="SG2018-002"), NotFound, "site_issue_not_candidate"),
                 (dict(item="9.9.9"), InvalidInput, "site_issue_unknown_item"),
                 (dict(verify="  "), InvalidInput, "site_issue_no_verify"),
                 (dict(verify="长" * 501), InvalidInput, "site_issue_too_long")]
        for kwargs, kind, code in cases:
            with pytest.raises(kind) as exc:
                _add(s, settings, **kwargs)
            assert exc.value.code == code
        with pytest.raises(NotAllowed):
            _add(s, settings, actor="e1")
        siteissues.edit_issue(s, settings, actor="zuzhang", now=NOW, number="SG2018-001", position="2",
                              item_key="4.4.3", verify="查看培训效果评价", ask="人力资源部", documents="")
        assert [(i.position, i.item_key) for i in s.scalars(select(SiteIssue).order_by(SiteIssue.position))] == \
            [(1, "4.2.2"), (2, "4.4.3")]
        assert [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.action.like("site.%"))
                                            .order_by(AuditEntry.id))] == ["site.issue_add"] * 2 + ["site.issue_edit"]
        stages.close_stage(s, settings, "site", actor="mishu", now=NOW)
        with pytest.raises(NotAllowed) as exc:
            _add(s, settings)
        assert exc.value.code == "site_issue_closed"


def test_findings_adjust_the_material_consensus_with_reasons(world, settings):
    with world.begin() as s:
        _add(s, settings)                                           # 4.2.2: agreed 55 %
        _add(s, settings, item="4.4.2", verify="查看培训记录")       # 4.4.2: experts' mean 60 %
        rec = dict(now=NOW, number="SG2018-001")
        with pytest.raises(InvalidInput) as exc:
            siteissues.record_finding(s, settings, actor="e1", position=1, outcome="部分", adjustment=-5, **rec)
        assert exc.value.code == "site_finding_reason_required"
        with pytest.raises(NotAllowed) as exc:                      # e3 is not on the visit
            siteissues.record_finding(s, settings, actor="e3", position=1, outcome="已核实", **rec)
        assert exc.value.code == "site_finding_not_on_visit"
        with pytest.raises(NotAllowed):                             # only the leader records the group's
            siteissues.record_finding(s, settings, actor="e1", position=1, outcome="已核实", as_group=True, **rec)
        with pytest.raises(InvalidInput):
            siteissues.record_finding(s, settings, actor="e1", position=1, outcome="大概", **rec)
        with pytest.raises(NotFound):
            siteissues.record_finding(s, settings, actor="e1", position=7, outcome="已核实", **rec)
        assert s.scalars(select(SiteFinding)).all() == []
        siteissues.record_finding(s, settings, actor="e1", position=1, outcome="部分", adjustment=-5,
                                  finding="只分解到部门", reason="班组无目标", **rec)
        siteissues.record_finding(s, settings, actor="e2", position=1, outcome="部分", adjustment=-10,
                                  finding="部门目标无考核", reason="考核未落实", **rec)
        siteissues.record_finding(s, settings, actor="e1", position=2, outcome="已核实", adjustment=5,
                                  reason="培训记录完整", **rec)
        app = siteissues.candidate(s, settings, "SG2018-001")
        sheet = siteissues.worksheet(s, settings, app)
        items = {i["key"]: i for i in sheet["items"]}
        assert (items["4.2.2"]["material"], items["4.2.2"]["adjustment"], items["4.2.2"]["site"]) == \
            ("55", "−7.5", "47.5")
        assert items["4.2.2"]["reasons"] == ["班组无目标", "考核未落实"]
        assert (items["4.4.2"]["material"], items["4.4.2"]["site"]) == ("60", "65")
        # the group's finding replaces the experts' mean for its issue
        siteissues.record_finding(s, settings, actor="zuzhang", position=1, outcome="部分", adjustment=-8,
                                  reason="组内合议", as_group=True, **rec)
        sheet = siteissues.worksheet(s, settings, app)
        assert {i["key"]: i["site"] for i in sheet["items"]}["4.2.2"] == "47"
        assert sheet["issues"][0]["findings"][0]["by"] == "专家组"
        mine = siteissues.expert_worksheets(s, settings, "e2")
        assert [w["number"] for w in mine] == ["SG2018-001"] and mine[0]["owed"] == 1
        assert siteissues.expert_worksheets(s, settings, "e3") == []
