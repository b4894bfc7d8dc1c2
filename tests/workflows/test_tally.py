"""Committee vote: ballot validation, quorum, tally, runoffs and re-count."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.voting.tally import (
    Outcome,
    Runoff,
    SelectionError,
    quorum_met,
    resolve_rounds,
    tally,
    validate_selection,
    verify,
)

FIVE = ["A", "B", "C", "D", "E"]


def ballots_from(counts: dict[str, int], members: int, per_ballot: int) -> list[list[str]]:
    """Build `members` ballots of `per_ballot` choices giving exactly `counts` (test helper)."""
    pool = [name for name, n in counts.items() for _ in range(n)]
    assert len(pool) == members * per_ballot
    ballots: list[list[str]] = [[] for _ in range(members)]
    # Deal round-robin so no ballot repeats a candidate (every count <= members).
    for index, name in enumerate(pool):
        ballots[index % members].append(name)
    assert all(len(set(b)) == len(b) for b in ballots)
    return ballots


# --- validate_selection ---------------------------------------------------------------


def test_valid_selection_is_returned_in_offered_order():
    assert validate_selection(["E", "A", "C"], FIVE, 3) == ["A", "C", "E"]


@pytest.mark.parametrize(
    ("selected", "expected"),
    [
        ([], SelectionError("empty", {"chosen": 0, "required": 3})),
        (["A", "B"], SelectionError("wrong_count", {"chosen": 2, "required": 3})),
        (["A", "B", "C", "D"], SelectionError("wrong_count", {"chosen": 4, "required": 3})),
        (["A", "A", "B"], SelectionError("duplicate_option", {"option": "A"})),
        (["A", "B", "Z"], SelectionError("unknown_option", {"options": ["Z"]})),
    ],
)
def test_invalid_selection_is_a_typed_error(selected, expected):
    assert validate_selection(selected, FIVE, 3) == expected


def test_option_not_offered_to_this_member_is_unknown():
    # A member who declared a conflict was offered only four of the five.
    result = validate_selection(["A", "B", "E"], ["A", "B", "C", "D"], 3)
    assert result == SelectionError("unknown_option", {"options": ["E"]})


def test_impossible_requirement_is_a_configuration_error():
    with pytest.raises(ValueError):
        validate_selection(["A"], ["A", "B"], 3)
    with pytest.raises(ValueError):
        validate_selection([], FIVE, 0)


# --- quorum ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("voted", "members", "met"),
    [(6, 9, True), (5, 9, False), (9, 9, True), (0, 9, False), (7, 10, True), (6, 10, False),
     (2, 3, True), (1, 3, False)],
)
def test_two_thirds_quorum_uses_exact_arithmetic(voted, members, met):
    assert quorum_met(voted, members) is met


def test_quorum_fraction_comes_from_configuration():
    assert quorum_met(5, 10, 1, 2) is True
    assert quorum_met(4, 10, 1, 2) is False


def test_quorum_rejects_impossible_numbers():
    with pytest.raises(ValueError):
        quorum_met(10, 9)
    with pytest.raises(ValueError):
        quorum_met(1, 0)
    with pytest.raises(ValueError):
        quorum_met(1, 3, 4, 3)


# --- tally ----------------------------------------------------------------------------


def test_counts_include_candidates_with_no_votes():
    result = tally([["A", "B", "C"], ["A", "B", "D"]], FIVE, 3)
    assert result.counts == {"A": 2, "B": 2, "C": 1, "D": 1, "E": 0}
    assert result.ranking[-1] == ("E", 0)
    assert result.ballots == 2


def test_clear_winners_decide_the_vote():
    ballots = ballots_from({"A": 9, "B": 7, "C": 6, "D": 3, "E": 2}, 9, 3)
    result = tally(ballots, FIVE, 3)
    assert result.winners == ("A", "B", "C")
    assert result.decided and result.runoff is None
    assert result.ranking == (("A", 9), ("B", 7), ("C", 6), ("D", 3), ("E", 2))


def test_tie_below_the_cut_does_not_matter():
    ballots = ballots_from({"A": 9, "B": 7, "C": 5, "D": 3, "E": 3}, 9, 3)
    result = tally(ballots, FIVE, 3)
    assert result.decided and result.winners == ("A", "B", "C")


def test_tie_at_the_cut_needs_a_runoff_for_the_remaining_seat():
    ballots = ballots_from({"A": 9, "B": 7, "C": 4, "D": 4, "E": 3}, 9, 3)
    result = tally(ballots, FIVE, 3)
    assert result.winners == ("A", "B")
    assert result.runoff == Runoff(("C", "D"), 1)
    assert not result.decided


def test_three_way_tie_for_two_seats():
    ballots = ballots_from({"A": 9, "B": 5, "C": 5, "D": 5, "E": 3}, 9, 3)
    result = tally(ballots, FIVE, 3)
    assert result.winners == ("A",)
    assert result.runoff == Runoff(("B", "C", "D"), 2)


def test_tie_that_exactly_fills_the_seats_needs_no_runoff():
    ballots = ballots_from({"A": 9, "B": 6, "C": 6, "D": 4, "E": 2}, 9, 3)
    result = tally(ballots, FIVE, 3)
    assert result.decided and set(result.winners) == {"A", "B", "C"}


def test_everyone_tied_puts_everyone_in_the_runoff():
    ballots = ballots_from({name: 3 for name in FIVE}, 5, 3)
    result = tally(ballots, FIVE, 3)
    assert result.winners == ()
    assert result.runoff == Runoff(tuple(FIVE), 3)


def test_no_ballots_at_all_is_an_everyone_tied_runoff():
    result = tally([], FIVE, 3)
    assert result.counts == dict.fromkeys(FIVE, 0)
    assert result.runoff == Runoff(tuple(FIVE), 3)


def test_fewer_candidates_than_seats_all_win_without_runoff():
    result = tally([["A"], ["A"]], ["A", "B"], 3)
    assert result.decided and result.runoff is None
    assert result.winners == ("A", "B")


def test_tally_refuses_ballots_that_could_never_have_been_cast():
    with pytest.raises(ValueError):
        tally([["A", "Z"]], FIVE, 3)
    with pytest.raises(ValueError):
        tally([["A", "A"]], FIVE, 3)


@st.composite
def _elections(draw):
    names = draw(st.lists(st.sampled_from("ABCDEFGH"), min_size=1, max_size=8, unique=True))
    seats = draw(st.integers(min_value=1, max_value=len(names) + 1))
    per_ballot = min(seats, len(names))
    ballot = st.lists(st.sampled_from(names), min_size=per_ballot, max_size=per_ballot, unique=True)
    ballots = draw(st.lists(ballot, max_size=15))
    shuffled = draw(st.permutations(ballots))
    return names, seats, ballots, shuffled


@given(_elections())
def test_tally_does_not_depend_on_ballot_order(election):
    names, seats, ballots, shuffled = election
    first = tally(ballots, names, seats)
    assert tally(shuffled, names, seats) == first
    # Invariants a committee would check by hand.
    assert sum(first.counts.values()) == sum(len(b) for b in ballots)
    filled = len(first.winners) + (first.runoff.seats if first.runoff else 0)
    assert filled == min(seats, len(names))


# --- runoffs --------------------------------------------------------------------------


def test_runoff_fills_the_remaining_seat():
    first = tally(ballots_from({"A": 9, "B": 7, "C": 4, "D": 4, "E": 3}, 9, 3), FIVE, 3)
    runoff = tally([["C"]] * 5 + [["D"]] * 4, ["C", "D"], 1)
    resolution = resolve_rounds([first, runoff])
    assert resolution.outcome is Outcome.DECIDED and resolution.decided
    assert resolution.winners == ("A", "B", "C")
    assert resolution.pending is None


def test_first_round_alone_can_be_decided_or_pending():
    decided = tally(ballots_from({"A": 9, "B": 7, "C": 6, "D": 3, "E": 2}, 9, 3), FIVE, 3)
    assert resolve_rounds([decided]).winners == ("A", "B", "C")
    pending = tally(ballots_from({"A": 9, "B": 7, "C": 4, "D": 4, "E": 3}, 9, 3), FIVE, 3)
    resolution = resolve_rounds([pending])
    assert resolution.outcome is Outcome.RUNOFF_NEEDED
    assert resolution.pending == Runoff(("C", "D"), 1)


def test_runoff_that_ties_again_is_reported_undecided():
    first = tally(ballots_from({"A": 9, "B": 7, "C": 4, "D": 4, "E": 3}, 9, 3), FIVE, 3)
    again = tally([["C"]] * 4 + [["D"]] * 4, ["C", "D"], 1)
    resolution = resolve_rounds([first, again])
    assert resolution.outcome is Outcome.DEADLOCKED and not resolution.decided
    assert resolution.winners == ("A", "B")
    assert resolution.pending == Runoff(("C", "D"), 1)


def test_partial_runoff_narrows_the_tie_and_asks_for_another():
    first = tally(ballots_from({"A": 9, "B": 5, "C": 5, "D": 5, "E": 3}, 9, 3), FIVE, 3)
    # Runoff among B, C, D for 2 seats: B clear, C and D tie for the last one.
    second = tally([["B", "C"], ["B", "D"], ["B", "C"], ["B", "D"]], ["B", "C", "D"], 2)
    resolution = resolve_rounds([first, second])
    assert resolution.outcome is Outcome.RUNOFF_NEEDED
    assert resolution.winners == ("A", "B")
    assert resolution.pending == Runoff(("C", "D"), 1)
    third = tally([["D"], ["D"], ["C"]], ["C", "D"], 1)
    assert resolve_rounds([first, second, third]).winners == ("A", "B", "D")


def test_rounds_that_do_not_match_the_runoff_are_refused():
    first = tally(ballots_from({"A": 9, "B": 7, "C": 4, "D": 4, "E": 3}, 9, 3), FIVE, 3)
    with pytest.raises(ValueError):
        resolve_rounds([first, tally([["C"]], ["C", "E"], 1)])
    with pytest.raises(ValueError):
        resolve_rounds([first, tally([["C"]], ["C", "D"], 2)])
    decided = tally([["A"]], ["A"], 1)
    with pytest.raises(ValueError):
        resolve_rounds([decided, decided])
    with pytest.raises(ValueError):
        resolve_rounds([])


# --- verify ---------------------------------------------------------------------------


def test_verify_accepts_a_faithful_record():
    ballots = ballots_from({"A": 9, "B": 7, "C": 6, "D": 3, "E": 2}, 9, 3)
    recorded = tally(ballots, FIVE, 3)
    assert verify(list(reversed(ballots)), FIVE, 3, recorded).ok


def test_verify_detects_a_changed_count():
    ballots = ballots_from({"A": 9, "B": 7, "C": 6, "D": 3, "E": 2}, 9, 3)
    recorded = tally(ballots, FIVE, 3)
    tampered = dataclasses.replace(recorded, counts={**recorded.counts, "D": 4})
    report = verify(ballots, FIVE, 3, tampered)
    assert not report.ok
    assert [(d.field, d.key, d.recomputed, d.recorded) for d in report.differences] == [
        ("count", "D", 3, 4)
    ]


def test_verify_detects_a_ballot_removed_after_the_count():
    ballots = ballots_from({"A": 9, "B": 7, "C": 6, "D": 3, "E": 2}, 9, 3)
    recorded = tally(ballots, FIVE, 3)
    report = verify(ballots[1:], FIVE, 3, recorded)
    assert not report.ok
    assert {d.field for d in report.differences} >= {"count", "ballots"}


def test_verify_detects_swapped_winners():
    ballots = ballots_from({"A": 9, "B": 7, "C": 6, "D": 3, "E": 2}, 9, 3)
    recorded = dataclasses.replace(tally(ballots, FIVE, 3), winners=("A", "B", "D"))
    report = verify(ballots, FIVE, 3, recorded)
    assert [d.field for d in report.differences] == ["winners"]


def test_verify_accepts_a_record_read_back_with_lists():
    ballots = ballots_from({"A": 9, "B": 7, "C": 4, "D": 4, "E": 3}, 9, 3)
    fresh = tally(ballots, FIVE, 3)
    stored = dataclasses.replace(
        fresh, ranking=[list(pair) for pair in fresh.ranking], winners=list(fresh.winners)
    )
    assert verify(ballots, FIVE, 3, stored).ok


# -- winning needs what the 议事规则 say (issue 23.14) -------------------------------------------------------

def test_a_winner_needs_more_than_half_of_the_ballots():
    from fractions import Fraction
    from workflows.voting.tally import tally as count, votes_needed
    assert [votes_needed(n, Fraction(1, 2)) for n in (7, 6, 5)] == [4, 4, 3]
    assert votes_needed(7, Fraction(0)) == 0 and votes_needed(9, Fraction(2, 3)) == 7
    papers = [["A", "B", "C"]] * 2 + [["A", "D", "E"]] * 2 + [["A", "B", "E"]] * 3   # A 7, B 5, E 5, C 2, D 2
    old = count(papers, list("ABCDE"), 3)
    assert old.winners == ("A", "B", "E") and old.needed == 0
    # 2 of 7 would have won a place before; with "more than half" only A, B and E can.
    papers = [["A", "B", "C"]] * 2 + [["A", "D", "E"]] * 2 + [["A", "B", "D"]] * 3   # A 7, B 5, D 5, C 2, E 2
    res = count(papers, list("ABCDE"), 3, Fraction(1, 2), "vacant")
    assert res.winners == ("A", "B", "D") and res.needed == 4 and res.decided
    papers = [["A", "B", "C"]] * 3 + [["A", "D", "E"]] * 2 + [["B", "C", "D"]] * 2  # A 5, B 5, C 5, D 4, E 2
    res = count(papers, list("ABCDE"), 3, Fraction(2, 3), "vacant")                  # needs 5 of 7
    assert res.winners == ("A", "B", "C")
    papers = [["A", "B", "C"]] * 3 + [["A", "D", "E"]] * 2 + [["B", "D", "E"]] * 2  # A 5, B 5, C 3, D 4, E 4
    tie = count(papers, list("ABCDE"), 3, Fraction(1, 2), "vacant")    # D and E both reach 4: a tie for 3rd
    assert tie.winners == ("A", "B") and tie.runoff == Runoff(("D", "E"), 1)
    vacant = count(papers, list("ABCDE"), 3, Fraction(2, 3), "vacant")  # needs 5: only A and B
    assert vacant.winners == ("A", "B") and vacant.decided and vacant.runoff is None
    runoff = count(papers, list("ABCDE"), 3, Fraction(2, 3), "runoff")
    assert runoff.winners == ("A", "B") and not runoff.decided
    assert runoff.runoff == Runoff(("D", "E", "C"), 1)           # among the rest, in ranking order


def test_a_runoff_among_the_rest_that_elects_nobody_is_deadlocked_and_verify_uses_the_recorded_rule():
    from fractions import Fraction
    from workflows.voting.tally import tally as count
    first = count([["A", "B"]] * 4 + [["C", "D"]] * 3, list("ABCD"), 2, Fraction(2, 3), "runoff")  # needs 5
    assert first.winners == () and first.runoff == Runoff(("A", "B", "C", "D"), 2)
    again = count([["A", "B"]] * 4 + [["C", "D"]] * 3, list("ABCD"), 2, Fraction(2, 3), "runoff")
    assert resolve_rounds([first, again]).outcome is Outcome.DEADLOCKED
    assert verify([["A", "B"]] * 4 + [["C", "D"]] * 3, list("ABCD"), 2, first, Fraction(2, 3), "runoff").ok
    assert not verify([["A", "B"]] * 4 + [["C", "D"]] * 3, list("ABCD"), 2, first).ok
