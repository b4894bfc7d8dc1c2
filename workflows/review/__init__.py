"""Stage 6 申报材料初审: the secretariat's formal review (受理 / 不予受理) and 补正 requests. See docs/review.md."""

from workflows.review.models import (  # noqa: F401
    ReviewStatus,
    FormalReview,
    Finding,
    SupplementRequest,
    SupplementItem,
)

from workflows.review.formal import (  # noqa: F401
    SYSTEM,
    STAGE,
    SUPPLEMENT_FLOW,
    REVIEW_FLOW,
    REASON_MAX,
    SECRETARIAT_FINDINGS,
    ReviewStep,
    applicant_items,
    item_name,
    application_of,
    find_application,
    review_for,
    open_request,
    summary,
    findings_view,
    documents_of,
    auto_findings,
    run_checks,
    card_secretariat,
    close_cards,
    open_review,
    start_review,
    undecided,
    require_stage,
    check_decidable,
    accept,
    clean_reason,
    reject,
    add_finding,
    iso,
    leave_supplement_mode,
    on_endorsed,
    on_stage_opened,
)

from workflows.review.supplement import (  # noqa: F401
    SupplementStep,
    OwedItem,
    SupplyResult,
    owed,
    supplement_deadline,
    request_supplement,
    vars_of,
    supply_item,
    expire_due,
    require_uploadable,
    supply_document,
    supplement_changes,
)

from workflows.review.queries import (  # noqa: F401
    PendingReview,
    OpenSupplement,
    pending_for_secretariat,
    open_supplements,
)

