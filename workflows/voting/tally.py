"""Committee vote rules (DOMAIN §三(七)3): ballot validation, quorum, tally, runoffs, re-count.

Pure functions: no I/O, no clock, no configuration lookups. Every number (how many options a
member must choose, how many seats, the quorum fraction) is passed in by the caller.

Ties are never broken silently: a tie that straddles the last seat(s) yields a `Runoff`, and a
runoff that ties exactly again is reported as a deadlock for the committee to decide.

Winning needs what the 议事规则 say (issue 23.14): a candidate wins only with more than `majority` of the
round's ballots (e.g. 1/2: more than half of the members who voted; 0: no threshold, the top `seats` win).
When fewer candidates than seats reach it, `shortfall` says what follows: `runoff` — a further round among
the rest for the open places (a runoff that elects nobody again is a deadlock) — or `vacant`: the places stay
empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class SelectionError:
    """Why a member's selection is not a valid ballot; `code` picks the message, `data` fills it."""

    code: str  # "empty" | "duplicate_option" | "unknown_option" | "wrong_count"
    data: Mapping[str, Any] = field(default_factory=dict)


def validate_selection(
    selected: Sequence[str], offered: Sequence[str], required: int
) -> list[str] | SelectionError:
    """Check a ballot: exactly `required` distinct offered options, returned in offered order."""
    if required < 1 or required > len(offered):
        raise ValueError(f"required={required} must be between 1 and {len(offered)} (offered)")
    if len(set(offered)) != len(offered):
        raise ValueError("offered options contain duplicates")
    if not selected:
        return SelectionError("empty", {"chosen": 0, "required": required})
    seen: set[str] = set()
    for option in selected:
        if option in seen:
            return SelectionError("duplicate_option", {"option": option})
        seen.add(option)
    offered_set = set(offered)
    unknown = [option for option in selected if option not in offered_set]
    if unknown:
        return SelectionError("unknown_option", {"options": unknown})
    if len(selected) != required:
        return SelectionError("wrong_count", {"chosen": len(selected), "required": required})
    # Offered order, not click order: the stored ballot then reveals nothing about how it was made.
    return [option for option in offered if option in seen]


def quorum_met(voted: int, members: int, numerator: int = 2, denominator: int = 3) -> bool:
    """Tell whether `voted` of `members` reaches the quorum fraction numerator/denominator."""
    if members < 1 or not 0 <= voted <= members:
        raise ValueError(f"voted={voted} must be between 0 and members={members} (members >= 1)")
    if denominator < 1 or not 0 <= numerator <= denominator:
        raise ValueError(f"quorum {numerator}/{denominator} is not a fraction in [0, 1]")
    return voted * denominator >= members * numerator


@dataclass(frozen=True)
class Runoff:
    """A further vote among tied `candidates` for the `seats` still open to them."""

    candidates: tuple[str, ...]
    seats: int


@dataclass(frozen=True)
class TallyResult:
    """One round's count: totals, ranking, clear winners and the runoff needed (if any)."""

    counts: dict[str, int]
    ranking: tuple[tuple[str, int], ...]
    winners: tuple[str, ...]
    runoff: Runoff | None
    decided: bool
    seats: int
    ballots: int
    needed: int = 0          # the votes a winner needed in this round (0: no threshold)


SHORTFALLS = ("runoff", "vacant")


def votes_needed(ballots: int, majority: Fraction) -> int:
    """The fewest votes that are *more than* `majority` of `ballots` (0 when there is no threshold)."""
    if majority <= 0:
        return 0
    return ballots * majority.numerator // majority.denominator + 1


def tally(ballots: Iterable[Sequence[str]], candidates: Sequence[str], seats: int,
          majority: Fraction = Fraction(0), shortfall: str = "vacant") -> TallyResult:
    """Count ballots for `seats` places; only candidates with more than `majority` of the ballots can win;
    ties straddling the last seat become a runoff, and so (with `shortfall="runoff"`) do places nobody won."""
    if shortfall not in SHORTFALLS:
        raise ValueError(f"shortfall={shortfall!r} must be one of {SHORTFALLS}")
    if seats < 1:
        raise ValueError(f"seats={seats} must be at least 1")
    if not candidates or len(set(candidates)) != len(candidates):
        raise ValueError("candidates must be a non-empty list without duplicates")
    counts = {candidate: 0 for candidate in candidates}
    ballot_count = 0
    for ballot in ballots:
        # Ballots were validated when cast; anything odd here means stored data is wrong.
        if len(set(ballot)) != len(ballot):
            raise ValueError(f"ballot {ballot_count} names a candidate twice")
        for choice in ballot:
            if choice not in counts:
                raise ValueError(f"ballot {ballot_count} names unknown candidate {choice!r}")
            counts[choice] += 1
        ballot_count += 1

    # Equal counts keep the caller's candidate order (e.g. composite-score order); only display.
    position = {candidate: index for index, candidate in enumerate(candidates)}
    ranking = tuple(sorted(counts.items(), key=lambda item: (-item[1], position[item[0]])))

    needed = votes_needed(ballot_count, majority)
    eligible = tuple((name, votes) for name, votes in ranking if votes >= needed)
    if len(eligible) <= seats:
        winners, runoff = tuple(name for name, _ in eligible), None
    else:
        cut_votes = eligible[seats - 1][1]
        above = tuple(name for name, votes in eligible if votes > cut_votes)
        at_cut = tuple(name for name, votes in eligible if votes == cut_votes)
        if len(above) + len(at_cut) <= seats:
            winners, runoff = above + at_cut, None
        else:
            winners, runoff = above, Runoff(at_cut, seats - len(above))
    open_places = seats - len(winners)
    rest = tuple(name for name, _ in ranking if name not in winners)
    # Places nobody won: a further round among the rest when there is a real choice, else they stay empty.
    if runoff is None and open_places and shortfall == "runoff" and len(rest) > open_places:
        runoff = Runoff(rest, open_places)
    return TallyResult(
        counts=counts,
        ranking=ranking,
        winners=winners,
        runoff=runoff,
        decided=runoff is None,
        seats=seats,
        ballots=ballot_count,
        needed=needed,
    )


class Outcome(StrEnum):
    """Where a vote stands after all rounds so far."""

    DECIDED = "decided"
    RUNOFF_NEEDED = "runoff_needed"
    DEADLOCKED = "deadlocked"


@dataclass(frozen=True)
class Resolution:
    """The combined result of a first round and its runoffs."""

    winners: tuple[str, ...]
    outcome: Outcome
    pending: Runoff | None  # the tie still open (runoff_needed or deadlocked)

    @property
    def decided(self) -> bool:
        """True when every seat is filled."""
        return self.outcome is Outcome.DECIDED


def resolve_rounds(rounds: Sequence[TallyResult]) -> Resolution:
    """Combine a first round with its runoffs; a runoff that ties exactly again is a deadlock."""
    if not rounds:
        raise ValueError("at least one round is required")
    winners: list[str] = []
    pending: Runoff | None = None
    deadlocked = False
    for index, result in enumerate(rounds):
        if index > 0:
            if pending is None:
                raise ValueError(f"round {index} follows a round that needed no runoff")
            if set(result.counts) != set(pending.candidates) or result.seats != pending.seats:
                raise ValueError(f"round {index} is not the runoff {pending} asked for")
        winners.extend(result.winners)
        # Same tie, same seats: the runoff changed nothing; another may not help either.
        deadlocked = _same_tie(pending, result.runoff)
        pending = result.runoff
    if pending is None:
        return Resolution(tuple(winners), Outcome.DECIDED, None)
    outcome = Outcome.DEADLOCKED if deadlocked else Outcome.RUNOFF_NEEDED
    return Resolution(tuple(winners), outcome, pending)


def _same_tie(before: Runoff | None, after: Runoff | None) -> bool:
    """True when two runoffs are over the same candidates for the same seats."""
    if before is None or after is None:
        return False
    return set(before.candidates) == set(after.candidates) and before.seats == after.seats


@dataclass(frozen=True)
class Difference:
    """One field where the recorded tally disagrees with a re-count of the stored ballots."""

    field: str  # "count" | "ranking" | "winners" | "runoff" | "decided" | "seats" | "ballots"
    key: str | None  # the candidate, for "count"
    recomputed: Any
    recorded: Any


def _comparable(value: Any) -> Any:
    """Lists read back from storage compare equal to the tuples a fresh tally produces."""
    if isinstance(value, (list, tuple)):
        return tuple(_comparable(item) for item in value)
    return value


@dataclass(frozen=True)
class VerifyResult:
    """Whether a recorded tally matches the stored ballots, and where it does not."""

    ok: bool
    differences: tuple[Difference, ...]


def verify(
    stored_ballots: Iterable[Sequence[str]],
    candidates: Sequence[str],
    seats: int,
    recorded: TallyResult,
    majority: Fraction = Fraction(0),
    shortfall: str = "vacant",
) -> VerifyResult:
    """Re-count the stored ballots and list every difference from the recorded result."""
    return compare(tally(stored_ballots, candidates, seats, majority, shortfall), recorded)


def compare(fresh: TallyResult, recorded: TallyResult) -> VerifyResult:
    """List every difference between a fresh count and the recorded result."""
    differences: list[Difference] = []
    for name in sorted(set(fresh.counts) | set(recorded.counts), key=str):
        if fresh.counts.get(name) != recorded.counts.get(name):
            differences.append(
                Difference("count", name, fresh.counts.get(name), recorded.counts.get(name))
            )
    for name in ("ranking", "winners", "runoff", "decided", "seats", "ballots", "needed"):
        mine, theirs = getattr(fresh, name), getattr(recorded, name)
        if _comparable(mine) != _comparable(theirs):
            differences.append(Difference(name, None, mine, theirs))
    return VerifyResult(not differences, tuple(differences))
