"""Expert assignment: impartiality rules, impossible cases named, balanced and stable load."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.scoring.assignment import (
    AppInfo,
    ExpertInfo,
    Problem,
    ProblemCode,
    check_assignment,
    conflict_reasons,
    loads,
    propose_assignment,
)

PER_APP = 3

APPS = [
    AppInfo("app1", "韶钢集团", "曲江区"),
    AppInfo("app2", "东阳光", "乳源县"),
    AppInfo("app3", "丹霞纸业", "仁化县"),
]
EXPERTS = [
    ExpertInfo("zhang", "韶关学院", "浈江区"),
    ExpertInfo("li", "韶钢集团", "浈江区"),       # works at app1's enterprise
    ExpertInfo("wang", "省质量协会", "乳源县"),   # lives in app2's region
    ExpertInfo("zhao", "广东工业大学", "广州市"),
    ExpertInfo("qian", "华南理工大学", "广州市"),
    ExpertInfo("sun", "省标准化院", "深圳市"),
]


def rules_respected(apps, experts, assignments, conflicts):
    by_app = {a.id: a for a in apps}
    by_user = {e.userid: e for e in experts}
    return all(not conflict_reasons(by_app[a], by_user[u], conflicts)
               for a, users in assignments.items() for u in users)


def test_conflict_reasons():
    conflicts = {("zhao", "app1")}
    assert conflict_reasons(APPS[0], EXPERTS[1], conflicts) == ["same_organization"]
    assert conflict_reasons(APPS[1], EXPERTS[2], conflicts) == ["same_region"]
    assert conflict_reasons(APPS[0], EXPERTS[3], conflicts) == ["declared_conflict"]
    assert conflict_reasons(APPS[0], EXPERTS[0], conflicts) == []
    both = ExpertInfo("x", "韶钢集团", "曲江区")
    assert conflict_reasons(APPS[0], both, {("x", "app1")}) == [
        "same_organization", "same_region", "declared_conflict"]


def test_names_are_compared_after_folding_width_and_spaces():
    app = AppInfo("a", "ABC 公司", "曲江区")
    assert conflict_reasons(app, ExpertInfo("x", "ＡＢＣ公司", ""), set()) == ["same_organization"]
    assert conflict_reasons(app, ExpertInfo("x", "abc公司", " 曲江区 "), set()) == [
        "same_organization", "same_region"]


def test_blank_organization_or_region_never_matches():
    app = AppInfo("a", "", "  ")
    assert conflict_reasons(app, ExpertInfo("x", "", ""), set()) == []


def test_proposal_respects_rules_and_balances_load():
    conflicts = {("zhao", "app3")}
    proposal = propose_assignment(APPS, EXPERTS, PER_APP, conflicts, None)
    assert proposal.problems == []
    assert all(len(users) == PER_APP for users in proposal.assignments.values())
    assert rules_respected(APPS, EXPERTS, proposal.assignments, conflicts)
    assert "li" not in proposal.assignments["app1"]
    assert "wang" not in proposal.assignments["app2"]
    assert "zhao" not in proposal.assignments["app3"]
    # 9 slots over 6 experts: loads 1 or 2, never 3.
    assert sorted(proposal.loads.values()) == [1, 1, 1, 2, 2, 2]
    assert check_assignment(APPS, EXPERTS, proposal.assignments, PER_APP, conflicts) == []


def test_existing_load_is_taken_into_account():
    experts = [ExpertInfo(u, f"org-{u}", f"region-{u}") for u in ("a", "b", "c", "d")]
    apps = [AppInfo("x", "X", "RX"), AppInfo("y", "Y", "RY")]
    proposal = propose_assignment(apps, experts, 2, set(), {"a": 2, "b": 1})
    # x goes to c and d (load 0); y to the least loaded of b, c, d (all 1), ties by id.
    assert proposal.assignments == {"x": ["c", "d"], "y": ["b", "c"]}
    assert proposal.loads == {"a": 2, "b": 2, "c": 2, "d": 1}


def test_rebalancing_beats_the_greedy_choice():
    # Every application has two eligible experts. Greedy gives e0 two applications;
    # the balanced answer gives each expert exactly one.
    apps = [AppInfo("a0", "o0", "r1"), AppInfo("a1", "o0", "r2"), AppInfo("a2", "o2", "r1")]
    experts = [ExpertInfo("e0", "o1", "r2"), ExpertInfo("e1", "o3", "r0"),
               ExpertInfo("e2", "o1", "r1")]
    conflicts = {("e2", "a0"), ("e2", "a2")}
    proposal = propose_assignment(apps, experts, 1, conflicts)
    assert proposal.loads == {"e0": 1, "e1": 1, "e2": 1}
    assert proposal.assignments == {"a0": ["e1"], "a1": ["e2"], "a2": ["e0"]}
    assert rules_respected(apps, experts, proposal.assignments, conflicts)


def test_impossible_application_is_named_with_reasons():
    experts = EXPERTS[:4]        # zhang, li, wang, zhao
    conflicts = {("zhao", "app2")}
    proposal = propose_assignment(APPS, experts, PER_APP, conflicts)
    # app1: li same organisation -> 3 eligible, fine.
    # app2: wang same region, zhao declared conflict -> only zhang and li.
    assert proposal.problems == [Problem("app2", ProblemCode.NOT_ENOUGH_ELIGIBLE, {
        "required": 3,
        "eligible": 2,
        "eligible_experts": ["li", "zhang"],
        "excluded": [{"userid": "wang", "reasons": ["same_region"]},
                     {"userid": "zhao", "reasons": ["declared_conflict"]}],
    })]
    # The eligible ones are still proposed; the secretariat must find one more.
    assert proposal.assignments["app2"] == ["li", "zhang"]
    assert rules_respected(APPS, experts, proposal.assignments, conflicts)


def test_no_experts_at_all():
    proposal = propose_assignment(APPS[:1], [], PER_APP, set())
    assert proposal.assignments == {"app1": []}
    assert proposal.problems[0].code == "not_enough_eligible"
    assert proposal.problems[0].data["eligible"] == 0


def test_bad_arguments():
    with pytest.raises(ValueError):
        propose_assignment(APPS, EXPERTS, 0, set())
    with pytest.raises(ValueError):
        propose_assignment(APPS + APPS[:1], EXPERTS, 1, set())
    with pytest.raises(ValueError):
        propose_assignment(APPS, EXPERTS + EXPERTS[:1], 1, set())


def test_check_assignment_reports_every_broken_rule():
    edited = {
        "app1": ["li", "zhang", "zhang", "ghost"],      # same org, duplicate, unknown
        "app2": ["wang", "zhao", "qian", "sun"],         # same region, declared, too many
        "app9": ["zhang"],                               # unknown application
    }                                                    # app3 missing: too few
    problems = check_assignment(APPS, EXPERTS, edited, PER_APP, {("zhao", "app2")})
    assert [p.app_id for p in problems] == sorted(p.app_id for p in problems)
    got = {(p.app_id, p.code): p.data for p in problems}
    assert got == {
        ("app1", "unknown_expert"): {"userid": "ghost"},
        ("app1", "same_organization"): {"userid": "li"},
        ("app1", "duplicate_expert"): {"userid": "zhang"},
        ("app2", "same_region"): {"userid": "wang"},
        ("app2", "declared_conflict"): {"userid": "zhao"},
        ("app2", "too_many_experts"): {"assigned": 4, "required": 3},
        ("app3", "too_few_experts"): {"assigned": 0, "required": 3},
        ("app9", "unknown_application"): {},
    }


def test_loads_helper():
    assert loads({"a": ["x", "y"], "b": ["x"]}, {"y": 2, "z": 1}) == {"x": 2, "y": 3, "z": 1}


# --- properties -------------------------------------------------------------------

ORGS = st.sampled_from(["o0", "o1", "o2", ""])
REGIONS = st.sampled_from(["r0", "r1", "r2", ""])


@st.composite
def instances(draw):
    n_apps = draw(st.integers(1, 4))
    n_experts = draw(st.integers(0, 5))
    apps = [AppInfo(f"a{i}", draw(ORGS), draw(REGIONS)) for i in range(n_apps)]
    experts = [ExpertInfo(f"e{i}", draw(ORGS), draw(REGIONS)) for i in range(n_experts)]
    pairs = [(e.userid, a.id) for e in experts for a in apps]
    conflicts = set(draw(st.lists(st.sampled_from(pairs), max_size=4))) if pairs else set()
    existing = draw(st.dictionaries(st.sampled_from([e.userid for e in experts] or ["none"]),
                                    st.integers(0, 2), max_size=3))
    per_app = draw(st.integers(1, 3))
    return apps, experts, per_app, conflicts, existing


def brute_force_min_max(apps, experts, per_app, conflicts, existing):
    options = []
    for app in apps:
        eligible = [e.userid for e in experts if not conflict_reasons(app, e, conflicts)]
        options.append(list(itertools.combinations(eligible, min(per_app, len(eligible)))))
    best = None
    for choice in itertools.product(*options):
        load = {e.userid: existing.get(e.userid, 0) for e in experts}
        for users in choice:
            for user in users:
                load[user] += 1
        worst = max(load.values(), default=0)
        best = worst if best is None else min(best, worst)
    return best


@settings(max_examples=150, deadline=None)
@given(instances(), st.randoms(use_true_random=False))
def test_proposal_is_valid_optimal_and_independent_of_input_order(instance, rnd):
    apps, experts, per_app, conflicts, existing = instance
    proposal = propose_assignment(apps, experts, per_app, conflicts, existing)
    assert rules_respected(apps, experts, proposal.assignments, conflicts)
    short = {p.app_id for p in proposal.problems}
    for app in apps:
        expected = per_app if app.id not in short else len([
            e for e in experts if not conflict_reasons(app, e, conflicts)])
        assert len(proposal.assignments[app.id]) == expected
    assert max(proposal.loads.values(), default=0) == brute_force_min_max(
        apps, experts, per_app, conflicts, existing)
    shuffled_apps, shuffled_experts = apps[:], experts[:]
    rnd.shuffle(shuffled_apps)
    rnd.shuffle(shuffled_experts)
    again = propose_assignment(shuffled_apps, shuffled_experts, per_app, conflicts, existing)
    assert again == proposal
