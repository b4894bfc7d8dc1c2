"""Stage 5 申报推荐: the applicant's application and guided dialog, completeness, credit codes, and the
recommending unit's opinion. See docs/application.md."""

from workflows.apply.models import (  # noqa: F401
    AppStatus,
    Application,
    DocStatus,
    Decision,
    Recommendation,
    Document,
)

from workflows.apply.records import (  # noqa: F401
    STAGE,
    subject,
    get_for_applicant,
    get,
    by_number,
    unit_name,
    current_documents,
    current_of,
    newest_documents,
    search,
    status_counts,
)

from workflows.apply.creditcode import (  # noqa: F401
    ALPHABET,
    LENGTH,
    AUTHORITY_TYPES,
    PROVINCE_CODES,
    WARNING_ORG_CHECK_DIGIT,
    CodeError,
    CreditCode,
    normalize,
    check_character,
    org_check_digit,
    with_check_character,
    with_check_digits,
    validate_credit_code,
    registration_kind,
    is_allowed_registration,
    is_in_region,
)

from workflows.apply.eligibility import (  # noqa: F401
    YES_WORDS,
    NO_WORDS,
    parse_yes_no,
    unmet,
)

from workflows.apply.completeness import (  # noqa: F401
    Provider,
    ItemState,
    PROVIDERS,
    MaterialItem,
    Receipt,
    ChecklistEntry,
    Checklist,
    material_items,
)

from workflows.apply.application import (  # noqa: F401
    EDITABLE,
    DERIVED_ANSWERS,
    MAX_TEXT,
    NotEligible,
    deadline_for,
    require_editable,
    require_uploadable,
    start,
    set_enterprise_name,
    set_credit_code,
    set_enterprise_type,
    unit_choices,
    set_unit,
    set_unit_reason,
    own_county_name,
    unit_mismatch,
    set_industry,
    set_contact_name,
    set_contact_phone,
    answer_eligibility,
    failed_reason,
    applicant_materials,
    checklist,
    record_document,
    attach_document,
    missing_facts,
    unanswered_questions,
    check_submittable,
    next_number,
    submit,
    check_extension,
    unsubmitted_count,
    extend_deadline,
)

from workflows.apply.recommendation import (  # noqa: F401
    CARD,
    OPINION_STEP,
    OUTCOME,
    recommenders_for,
    may_decide,
    may_view_documents,
    current as current_recommendation,
    version as recommendation_version,
    clean_opinion,
    check_decidable,
    card_data,
    offer,
    request,
    decide,
    pending_for,
    changeable_for,
    has_open_card,
)

from workflows.apply import changes  # noqa: F401

from workflows.apply.flow import (  # noqa: F401
    FLOW,
    Step,
    Setter,
    FACTS,
    SETTERS,
    Position,
    next_position,
    resume,
    choose_item,
    answer,
    item_numbers,
    summary,
    step_data,
    prompt,
    after_upload,
)

