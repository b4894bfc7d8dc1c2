"""Stages 7.1–7.2 材料评审 and 现场考评: experts and their assignment, the GB/T 19580-2012 rubric (scored with
GB/Z 19579-2012), score sheets, aggregation, ranking and the reports. See docs/scoring.md."""

from workflows.scoring.models import (  # noqa: F401
    AssignmentProposal,
    Assignment,
    ConflictDeclaration,
    ScoreSheet,
    Consensus,
    ItemConsensus,
    InterestDeclaration,
    Shortlist,
    ReportConfirmation,
)

from workflows.scoring.rubric import (  # noqa: F401
    DEFAULT_BANDS,
    PERCENT_MIN,
    PERCENT_MAX,
    Category,
    RubricItem,
    RubricProblem,
    Rubric,
)

from workflows.scoring.scoresheet import (  # noqa: F401
    EntryCode,
    EntryError,
    SheetEntry,
    SheetScore,
    normalize,
    decimal_text,
    points_text,
    item_points,
    band_of,
    parse_item_value,
    parse_sheet,
    subtotals,
)

from workflows.scoring.assignment import (  # noqa: F401
    Reason,
    ProblemCode,
    AppInfo,
    ExpertInfo,
    Problem,
    Proposal,
    conflict_reasons,
    propose_assignment,
    check_assignment,
    loads,
)

from workflows.scoring.experts import (  # noqa: F401
    PHASES,
    EXPERT_ROLES,
    SECRETARIAT,
    LEADER,
    ProposalView,
    check_phase,
    current_phase,
    normalize_number,
    find_application,
    phase_applications,
    region_name,
    conflicts,
    assignments,
    assigned_to,
    require_assigned,
    propose,
    pending_proposal,
    edit,
    confirm,
    declare_conflict,
    check_conflict,
    conflict_withdraws,
)

from workflows.scoring.ranking import (  # noqa: F401
    Number,
    AppId,
    AggregateMethod,
    exact,
    aggregate,
    ExpertSheet,
    application_scores,
    Spread,
    Disagreement,
    disagreements,
    RankedEntry,
    TieAtCut,
    Cut,
    rank,
    cut,
    CandidateSelection,
    composite,
    CompositeEntry,
    CompositeRanking,
    rank_composite,
)

from workflows.scoring.results import (  # noqa: F401
    fmt,
    expert_sheets,
    Standing,
    standing,
    flag_disagreement,
    ConsensusCheck,
    check_consensus,
    record_consensus,
    candidates,
    composite_ranking,
    shortlist,
    select_candidates,
    select_finalists,
    break_tie,
    SITE as SITE_KIND,
    VOTE as VOTE_KIND,
    final_top,
    ranking_digest,
    confirm_report,
    report_confirmation,
    require_report_confirmed,
)

from workflows.scoring.sheets import (  # noqa: F401
    configured_rubric,
    sheet_subject,
    score_of,
    missing_items,
    running_total,
    recorded,
    open_sheet,
    set_item,
    enter_sheet,
    set_comments,
    set_reason,
    confirm_sheet,
    revise_sheet,
    reopen_sheet,
    check_reopen,
    confirmed_sheets,
    unscored_assignments,
    ImportProblem,
    ImportResult,
    import_sheets,
    export_sheets,
    my_sheets,
    points,
)

from workflows.scoring.report import (  # noqa: F401
    report_data,
)

from workflows.scoring.admission import admit_below_gate, check_admissible  # noqa: F401,E402
