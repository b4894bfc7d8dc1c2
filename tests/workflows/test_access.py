"""One gate: every state-changing verb declares who may call it, and refuses everyone else itself."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from sqlalchemy import func, select

import workflows
from workflows.core import access
from workflows.core.errors import NotAllowed
from workflows.core.models import ROLES, AuditEntry, OutboxMessage, Person

# Public functions that take an `actor` but are not verbs of their own, and why.
NOT_VERBS = {
    "workflows.core.access.require": "the gate itself",
    "workflows.core.access.role_of": "the gate's look-up",
    "workflows.core.access.require_pledged": "the gate itself (the confidentiality pledge, §五(三))",
    "workflows.core.audit.record": "writes down who acted; decides nothing",
    "workflows.core.events.announce": "a hand-off inside a verb that was already allowed",
    "workflows.core.reminders.run_due": "the scheduler's own sweep; no member can reach it",
    "workflows.core.stages.record_extension": "part of an allowed verb's decision (extend, reopen)",
    "workflows.apply.application.record_document": "part of apply.attach and review.supply",
    "workflows.review.formal.start_review": "part of review.open and of the endorsement hand-off",
    "workflows.review.formal.on_endorsed": "the endorsement hand-off (the recommender was allowed)",
    "workflows.review.formal.on_stage_opened": "the stage-opening hand-off (the opener was allowed)",
    "workflows.edition.announce_opening": "the stage-opening hand-off (the opener was allowed)",
    "workflows.apply.conditions.reopen_failed_answers": "part of apply.start",
    "workflows.apply.conditions.end_ineligible": "part of apply.edit (the answer that ends the application)",
    "workflows.apply.recommendation.check_decidable": "a read-only check before a card or confirmation is offered",
    "workflows.intake.check": "a read-only check before an upload page is shown",
    "workflows.committee.admission.record": "part of committee.admit (scoring.admit_below_gate checks and guards)",
    "workflows.intake.accept": "passes the uploader on to apply.attach / review.supply / the complaint's owner check",
}


def _all_modules() -> list:
    mods = []
    for info in pkgutil.walk_packages(workflows.__path__, "workflows."):
        mods.append(importlib.import_module(info.name))
    return mods


def _verbs() -> dict[str, object]:
    """Every public function in workflows/ with an `actor` parameter, by qualified name."""
    found = {}
    for mod in _all_modules():
        for name, fn in vars(mod).items():
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
                continue
            target = inspect.unwrap(fn)
            if "actor" in inspect.signature(target).parameters:
                found[f"{mod.__name__}.{name}"] = fn
    return found


def test_every_function_that_takes_an_actor_is_guarded_or_explained():
    unguarded = sorted(n for n, fn in _verbs().items() if not hasattr(fn, "__guard__") and n not in NOT_VERBS)
    assert unguarded == []
    stale = sorted(n for n in NOT_VERBS if n not in _verbs())
    assert stale == []


def test_every_policy_entry_guards_a_verb():
    _all_modules()
    assert set(access.guarded_verbs()) == set(access.POLICY)


def _guarded():
    _all_modules()
    return [(verb, fn) for verb, fns in sorted(access.guarded_verbs().items()) for fn in fns]


def _counts(s):
    return (s.scalar(select(func.count()).select_from(AuditEntry)),
            s.scalar(select(func.count()).select_from(OutboxMessage)))


@pytest.fixture
def everyone(sessions, clock):
    """One active member per role, and one who left the roster."""
    with sessions.begin() as s:
        for role in ROLES:
            s.add(Person(userid=f"as-{role}", name=role, role=role, organization="", region="", active=True,
                         updated_at=clock()))
        s.add(Person(userid="gone", name="gone", role="secretariat", organization="", region="", active=False,
                     updated_at=clock()))
    return sessions


@pytest.mark.parametrize("verb,fn", _guarded(), ids=lambda v: v if isinstance(v, str) else v.__qualname__)
def test_each_verb_refuses_the_wrong_roles_and_unknown_members(everyone, settings, clock, verb, fn):
    allowed = access.POLICY[verb]
    wrong = [f"as-{r}" for r in ROLES if not access.allows(verb, r, access.delegated_by(settings))]
    if access.APPLICANT not in allowed:
        wrong.append("stranger-not-on-the-roster")
    wrong.append("gone")  # removed from the roster: no powers at all
    assert wrong, verb
    with everyone() as s:
        before = _counts(s)
        for actor in wrong:
            with pytest.raises(NotAllowed) as err:
                fn(s, settings, actor=actor, now=clock())  # refused before the verb reads its arguments
            assert err.value.data["action"] == verb
        assert _counts(s) == before


@pytest.mark.parametrize("actor", sorted(access.SYSTEM_ACTORS))
def test_the_bots_own_actors_are_operators(sessions, actor):
    with sessions() as s:
        assert access.role_of(s, actor) == access.OPERATOR


def test_chair_and_leader_include_member_and_expert():
    assert access.allows("vote.cast", "committee_chair")
    assert access.allows("scoring.score", "expert_leader")
    assert not access.allows("scoring.reopen", "expert")
    assert not access.allows("vote.manage", "committee_chair")


# -- what may be seen (VIEWS): the workbench's pages read the same table ----------------------------------------
SEES = {
    "secretariat": {"edition.overview", "applications.view", "assignments.view", "scores.view", "ranking.view",
                    "publicity.view", "audit.view", "exports.download", "results.view", "vote.status", "broadcasts.view",
                    "committee.rules_view"},
    "expert_leader": {"applications.view", "assignments.view", "scores.view", "ranking.view", "results.view"},
    "committee_chair": {"ranking.view", "vote.status", "committee.rules_view"},
    "expert": {"applications.view"},
    "committee": {"committee.rules_view"},
    "recommender": set(),
    access.APPLICANT: set(),
    access.INACTIVE: set(),
}


@pytest.mark.parametrize("role", sorted(SEES))
def test_each_role_sees_exactly_its_views(role):
    assert {v for v in access.VIEWS if access.may_see(role, v)} == SEES[role]


def test_views_follow_the_roster(everyone):
    with everyone() as s:
        assert access.may_see(access.role_of(s, "as-secretariat"), "audit.view")
        for actor in ("gone", "stranger-not-on-the-roster", "as-expert"):
            assert not access.may_see(access.role_of(s, actor), "audit.view")


def test_an_unknown_view_is_a_programming_error():
    with pytest.raises(KeyError):
        access.may_see("secretariat", "no.such.view")


def test_workbench_views_are_views_and_chat_views_do_not_open_the_workbench():
    assert access.WORKBENCH_VIEWS <= set(access.VIEWS)
    assert "committee.rules_view" not in access.WORKBENCH_VIEWS
    assert not any(access.may_see("committee", v) for v in access.WORKBENCH_VIEWS)
