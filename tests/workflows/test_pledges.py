"""23.4: §五(三) 参与推荐和评审的人员…保守秘密 — recommenders, committee members and the agency sign a confidentiality
pledge (card, once per edition, before they do anything); committee members declare their own conflicts of
interest per candidate before a vote opens."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import with_pledges
from tests.workflows.scoringdata import T_MATERIAL, add_application, add_roster, open_phase
from tests.workflows.test_voting import MEMBERS, VOTE_TIME, seed
from workflows import voting
from workflows.core import audit, pledges
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed
from workflows.core.models import CardTask, OutboxMessage, Person
from workflows.scoring import experts
from workflows.voting import ballots, declarations
from workflows.voting.models import Participation, VoteConflict


@pytest.fixture
def on(settings):
    return with_pledges(settings)


def test_the_agency_and_committee_sign_once_per_edition_before_they_act(sessions, on):
    assert on.award.pledges.roles == ["recommender", "committee", "committee_chair", "agency"]   # [seed §五(三)]
    with sessions.begin() as s:
        add_roster(s, T_MATERIAL)
        s.add_all([Person(userid="jigou1", name="机构·张工", role="agency", organization="中心", region="",
                          updated_at=T_MATERIAL),
                   Person(userid="tuijian1", name="推荐·武江", role="recommender", organization="武江区", region="武江区",
                          updated_at=T_MATERIAL),
                   Person(userid="weiyuan1", name="委员", role="committee_chair", organization="市政府", region="",
                          updated_at=T_MATERIAL)])
        add_application(s, on, 1)
        open_phase(s, on, "material", T_MATERIAL)
        with pytest.raises(NotAllowed) as exc:     # before the pledge, nothing: not even a delegated power
            experts.propose(s, on, actor="jigou1", now=T_MATERIAL, phase="material")
        assert exc.value.code == "confidentiality_required"
        with pytest.raises(NotAllowed):
            pledges.ask_all(s, on, actor="jigou1", now=T_MATERIAL)    # only the secretariat sends them
        asked = pledges.ask_all(s, on, actor="mishu", now=T_MATERIAL)
        assert sorted(asked) == ["jigou1", "tuijian1", "weiyuan1"]   # experts pledge through the draw
        assert pledges.ask_all(s, on, actor="mishu", now=T_MATERIAL) == []   # once per edition
        cards = s.scalars(select(CardTask).where(CardTask.kind == "pledges.confidentiality")).all()
        assert sorted(c.recipient for c in cards) == ["jigou1", "tuijian1", "weiyuan1"]
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "pledges.text",
                                                     OutboxMessage.recipient == "jigou1")).one()
        row = pledges.accept(s, on, actor="jigou1", now=T_MATERIAL, pledge_id=pledges.of(s, on, "jigou1").id)
        assert row.status == "accepted"
        with pytest.raises(AlreadyDone):
            pledges.accept(s, on, actor="jigou1", now=T_MATERIAL)
        experts.propose(s, on, actor="jigou1", now=T_MATERIAL, phase="material")   # now he organises
        [entry] = audit.entries(s, action="pledges.accept")
        assert entry.actor == "jigou1" and entry.details["role"] == "agency"
        assert [u for u, _, state in pledges.outstanding(s, on)] == ["tuijian1", "weiyuan1"]


def test_committee_members_declare_their_own_conflicts_before_the_vote_opens(sessions, on, clock, monkeypatch):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, on, clock())
        monkeypatch.setattr(ballots, "final_candidates", lambda session, settings: cands)
        for m in MEMBERS:
            pledges.ask(s, on, m, clock())
            pledges.accept(s, on, actor=m, now=clock())
        with pytest.raises(InvalidInput) as exc:
            voting.open_ballot(s, on, actor="mishu", now=clock(), candidates=cands)
        assert exc.value.code == "vote_declarations_missing" and len(exc.value.data["members"]) == 7
        assert sorted(declarations.request(s, on, actor="mishu", now=clock())) == MEMBERS
        assert len(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "vote.declare_request")).all()) == 7
        with pytest.raises(InvalidInput) as exc:
            declarations.declare(s, on, actor="weiyuan4", now=clock(), number="SG2099-001")
        assert exc.value.code == "declare_not_candidate"
        out = declarations.declare(s, on, actor="weiyuan4", now=clock(), number="SG2018-001", reason="曾任其顾问")
        assert out["complete"] and [c["conflict"] for c in out["candidates"]] == [True, False, False, False, False]
        conflict = s.scalars(select(VoteConflict)).one()
        assert (conflict.member, conflict.declared_by) == ("weiyuan4", "weiyuan4")     # his own, not the secretariat's
        for m in MEMBERS[:-1]:
            if m != "weiyuan4":
                declarations.declare(s, on, actor=m, now=clock())
        with pytest.raises(InvalidInput) as exc:
            voting.open_ballot(s, on, actor="mishu", now=clock(), candidates=cands)
        assert exc.value.data["members"] == ["委员·蒋雪"]
        declarations.declare(s, on, actor="weiyuan7", now=clock())
        voting.open_ballot(s, on, actor="mishu", now=clock(), candidates=cands)
        part = s.scalar(select(Participation).where(Participation.member == "weiyuan4"))
        assert part.excluded == [cands[0].application_id]
        with pytest.raises(AlreadyDone):            # once the vote is open, the secretariat records a late conflict
            declarations.declare(s, on, actor="weiyuan5", now=clock(), number="SG2018-002")
        [entry] = [e for e in audit.entries(s, action="vote.self_declared") if e.actor == "weiyuan4"]
        assert entry.details["conflicts"] == [cands[0].application_id]


def test_a_committee_member_who_has_not_signed_cannot_declare(sessions, on, clock, monkeypatch):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, on, clock())
        monkeypatch.setattr(ballots, "final_candidates", lambda session, settings: cands)
        with pytest.raises(NotAllowed) as exc:
            declarations.declare(s, on, actor="weiyuan2", now=clock())
        assert exc.value.code == "confidentiality_required"
