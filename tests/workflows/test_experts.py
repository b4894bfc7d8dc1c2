"""Expert assignment service: proposals respect 回避 and balance load, impossible ones say why, confirm notifies."""
import pytest
from sqlalchemy import select

from workflows.core import audit
from workflows import scoring
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from workflows.apply.models import AppStatus
from workflows.scoring.models import Assignment
from workflows.core.models import OutboxMessage

from .scoringdata import T_MATERIAL as NOW, add_application, add_roster, open_phase


@pytest.fixture
def s(sessions, settings):
    with sessions.begin() as session:
        add_roster(session, NOW)
        open_phase(session, settings, "material", NOW)
        yield session


def test_proposal_never_assigns_own_organisation_region_or_declared_conflict(s, settings):
    shaogang = add_application(s, settings, 1, name="韶钢集团", region="440205")      # e6's employer, 曲江区
    zhenjiang = add_application(s, settings, 2, name="浈江电子", region="440204")     # e5's region
    third = add_application(s, settings, 3, name="丹霞纸业", region="440224")
    scoring.declare_conflict(s, settings, actor="e1", now=NOW, number="sg2018-003", reason="曾任顾问")
    view = scoring.propose(s, settings, actor="mishu", now=NOW, phase="material")
    by_number = {r["number"]: [e["userid"] for e in r["experts"]] for r in view.rows}
    assert view.problems == []
    assert all(len(v) == 5 for v in by_number.values())
    assert "e6" not in by_number[shaogang.number]
    assert "e5" not in by_number[zhenjiang.number]
    assert "e1" not in by_number[third.number]


def test_load_is_balanced(s, settings):
    for n in range(1, 8):
        add_application(s, settings, n, region="440281")
    view = scoring.propose(s, settings, actor="mishu", now=NOW, phase="material")
    loads = [len([r for r in view.rows if u in [e["userid"] for e in r["experts"]]])
             for u in ("zuzhang", "e1", "e2", "e3", "e4", "e5", "e6")]
    assert sum(loads) == 35 and max(loads) - min(loads) <= 1


def test_impossible_proposal_names_the_application_and_why_and_cannot_be_confirmed(s, settings):
    app = add_application(s, settings, 1, name="韶钢集团", region="440204")  # e6 organisation, e5 region
    scoring.declare_conflict(s, settings, actor="e1", now=NOW, number=app.number)
    view = scoring.propose(s, settings, actor="mishu", now=NOW, phase="material")
    [problem] = view.problems
    assert problem["number"] == "SG2018-001" and problem["code"] == "not_enough_eligible"
    excluded = {e["userid"]: e["reasons"] for e in problem["data"]["excluded"]}
    assert excluded == {"e1": ["declared_conflict"], "e5": ["same_region"], "e6": ["same_organization"]}
    with pytest.raises(InvalidInput) as err:
        scoring.confirm(s, settings, actor="mishu", now=NOW, phase="material")
    assert err.value.code == "assignment_invalid"
    assert s.scalars(select(Assignment)).all() == []


def test_edit_then_confirm_notifies_each_expert_with_list_and_deadline(s, settings):
    add_application(s, settings, 1)
    scoring.propose(s, settings, actor="mishu", now=NOW, phase="material")
    with pytest.raises(InvalidInput):  # an edit breaking the rules is refused on confirm
        scoring.edit(s, settings, actor="mishu", now=NOW, phase="material", number="SG2018-001",
                     experts=["e1", "e2", "e3", "e4", "nobody"])
        scoring.confirm(s, settings, actor="mishu", now=NOW, phase="material")
    scoring.edit(s, settings, actor="mishu", now=NOW, phase="material", number="SG2018-001",
                 experts=["e1", "e2", "e3", "e4", "e6"])
    scoring.confirm(s, settings, actor="mishu", now=NOW, phase="material")
    assert scoring.assignments(s, settings, "material") == {1: ["e1", "e2", "e3", "e4", "e6"]}
    notes = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "scoring.assigned")).all()
    assert sorted(n.recipient for n in notes) == ["e1", "e2", "e3", "e4", "e6"]
    assert notes[0].data["applications"][0]["number"] == "SG2018-001" and notes[0].data["deadline"]
    assert [e.action for e in audit.entries(s)][-4:] == ["assignment.propose", "assignment.edit",
                                                         "assignment.edit", "assignment.confirm"]


def test_only_secretariat_assigns_and_only_experts_declare(s, settings):
    add_application(s, settings, 1)
    with pytest.raises(NotAllowed):
        scoring.propose(s, settings, actor="e1", now=NOW, phase="material")
    with pytest.raises(NotAllowed):
        scoring.declare_conflict(s, settings, actor="mishu", now=NOW, number="SG2018-001")


def test_conflict_declaration_is_audited_once_and_withdraws_an_assignment(s, settings):
    add_application(s, settings, 1)
    add_application(s, settings, 2, status=AppStatus.SUBMITTED)
    scoring.propose(s, settings, actor="mishu", now=NOW, phase="material")
    scoring.confirm(s, settings, actor="mishu", now=NOW, phase="material")
    assigned = scoring.assignments(s, settings, "material")[1]
    who = assigned[0]
    scoring.declare_conflict(s, settings, actor=who, now=NOW, number="SG2018-001", reason="亲属任职")
    assert who not in scoring.assignments(s, settings, "material")[1]
    [entry] = audit.entries(s, action="conflict.declare")
    assert entry.actor == who and entry.details["reason"] == "亲属任职"
    assert s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "experts.conflict_declared")).one()
    with pytest.raises(AlreadyDone):
        scoring.declare_conflict(s, settings, actor=who, now=NOW, number="SG2018-001")
    with pytest.raises(NotFound):  # not accepted: not in expert review at all
        scoring.declare_conflict(s, settings, actor=who, now=NOW, number="SG2018-002")


def test_unassigned_application_is_not_found_for_the_expert(s, settings):
    add_application(s, settings, 1)
    scoring.propose(s, settings, actor="mishu", now=NOW, phase="material")
    scoring.confirm(s, settings, actor="mishu", now=NOW, phase="material")
    outsider = ({"zuzhang", "e1", "e2", "e3", "e4", "e5", "e6"} - set(scoring.assignments(s, settings, "material")[1])).pop()
    with pytest.raises(NotFound) as err:
        scoring.require_assigned(s, settings, outsider, "SG2018-001", "material")
    assert err.value.code == "not_assigned"
