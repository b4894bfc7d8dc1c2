"""Confirmation rounds: with no more candidates than seats, the committee confirms each one (yes/no).

Same card mechanics, quorum and secrecy as a choosing round.  The card offers, per candidate, a
同意 option (`app-<id>`, the usual option id) and a 不同意 option (`no-<id>`); a valid paper marks exactly
one of the two for every candidate offered.  A stored paper keeps a 不同意 as the negated application id.
A candidate is confirmed when more members voted 同意 than 不同意 on it (a tie confirms nobody: the
committee then decides again).  Pure functions: no I/O.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from workflows.voting import tally

NO_PREFIX = "no-"


def is_confirmation(candidates: Sequence[Any], seats: int) -> bool:
    """A round with no more candidates than seats confirms each one instead of choosing among them."""
    return len(candidates) <= seats


def no_option(yes_option: str) -> str:
    """The 不同意 option paired with a candidate's option id (`app-7` → `no-7`)."""
    return NO_PREFIX + yes_option.partition("-")[2]


def yes_option(option: str) -> str:
    """The candidate's option id behind a 同意 or 不同意 option."""
    return "app-" + option.partition("-")[2] if option.startswith(NO_PREFIX) else option


def stored_value(option: str) -> int | None:
    """The integer a paper stores for an option: the application id, negated for 不同意."""
    prefix, _, number = option.partition("-")
    if not number.isdigit():
        return None
    return {"app": int(number), "no": -int(number)}.get(prefix)


def option_of(value: int) -> str:
    """The option id of a stored integer."""
    return f"app-{value}" if value > 0 else f"{NO_PREFIX}{-value}"


def offered(candidate_options: Sequence[str]) -> list[str]:
    """The card's options for these candidates: 同意 then 不同意 for each, in candidate order."""
    return [o for c in candidate_options for o in (c, no_option(c))]


def validate(selected: Sequence[str], offered_options: Sequence[str]) -> list[str] | tally.SelectionError:
    """Exactly one of 同意/不同意 for every candidate offered; returned in offered order."""
    if not selected:
        return tally.SelectionError("empty", {"chosen": 0, "required": len(offered_options) // 2})
    if len(set(selected)) != len(selected):
        return tally.SelectionError("duplicate_option", {"option": selected[0]})
    unknown = [o for o in selected if o not in offered_options]
    if unknown:
        return tally.SelectionError("unknown_option", {"options": unknown})
    chosen = set(selected)
    candidates = [o for o in offered_options if not o.startswith(NO_PREFIX)]
    if any((c in chosen) == (no_option(c) in chosen) for c in candidates):
        return tally.SelectionError("confirm_each", {"chosen": len(selected), "required": len(candidates)})
    return [o for o in offered_options if o in chosen]


def count(papers: Iterable[Sequence[str]], candidates: Sequence[str], seats: int) -> tally.TallyResult:
    """Count a confirmation round: 同意 and 不同意 per candidate; confirmed when 同意 > 不同意."""
    if not candidates or len(set(candidates)) != len(candidates):
        raise ValueError("candidates must be a non-empty list without duplicates")
    counts = {o: 0 for c in candidates for o in (c, no_option(c))}
    ballots = 0
    for paper in papers:
        for option in paper:
            if option not in counts:
                raise ValueError(f"paper {ballots} names unknown option {option!r}")
            counts[option] += 1
        ballots += 1
    position = {c: i for i, c in enumerate(candidates)}
    ranking = tuple(sorted(((c, counts[c]) for c in candidates), key=lambda item: (-item[1], position[item[0]])))
    winners = tuple(c for c in candidates if counts[c] > counts[no_option(c)])
    return tally.TallyResult(counts=counts, ranking=ranking, winners=winners, runoff=None, decided=True,
                             seats=seats, ballots=ballots)
