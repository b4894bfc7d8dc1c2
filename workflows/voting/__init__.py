"""The committee vote (stage 7.3): secret multi-select ballots on the final top candidates.

Split by responsibility: `ballots` (open, cards, conflicts, cast), `closing` (quorum, tally,
runoff, re-count, results), `queries` (turnout, non-voters).  See docs/voting.md.
"""
from workflows.voting.ballots import (
    CARD,
    ELECTORATE,
    VOTED_CARD,
    CandidateInfo,
    CastOutcome,
    application_of,
    card_data,
    cast_ballot,
    check_openable,
    declare_conflict,
    final_candidates,
    open_ballot,
    open_replacement_round,
    option_id,
    question_key,
    reissue_card,
    submit_key,
)
from workflows.voting.closing import (
    CloseOutcome,
    Recount,
    close_ballot,
    close_due,
    electors,
    extend_ballot,
    latest_round,
    open_round,
    papers,
    proposed_winners,
    ranked_candidates,
    report,
    reports,
    scrub_receipts,
    series,
    series_result,
    series_winners,
    verify,
)
from workflows.voting.deadlock import check_tie_decidable, decide_tie, tie_data
from workflows.voting.queries import MemberTurnout, NonVoter, non_voters, turnout

__all__ = [
    "CARD", "ELECTORATE", "VOTED_CARD", "CandidateInfo", "CastOutcome", "CloseOutcome", "MemberTurnout",
    "NonVoter", "Recount", "application_of", "card_data", "cast_ballot", "check_openable", "close_ballot", "close_due",
    "declare_conflict", "electors", "extend_ballot", "final_candidates", "latest_round", "non_voters",
    "open_ballot", "open_round", "option_id", "papers", "proposed_winners", "question_key", "ranked_candidates", "reissue_card",
    "report", "scrub_receipts", "series", "submit_key", "turnout", "verify",
    "open_replacement_round", "reports", "series_result", "series_winners", "check_tie_decidable", "decide_tie",
    "tie_data",
]
