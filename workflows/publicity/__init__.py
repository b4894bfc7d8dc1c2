"""Stages 8–9 公示, 审批, 表彰: the public notice and its window, complaints, the city's approval and the award.
See docs/publicity.md."""

from workflows.publicity.models import (  # noqa: F401
    Publicity,
    Complaint,
    ComplaintEvidence,
    ComplaintAttempt,
    Approval,
    AwardRecord,
)

from workflows.publicity.window import (  # noqa: F401
    Window,
    WindowState,
    notice_window,
    state,
    is_open,
)

from workflows.publicity.record import (  # noqa: F401
    window_of,
    current,
    require,
    describe,
    window_data,
)

from workflows.publicity.complaints import (  # noqa: F401
    FLOW,
    SKIP_WORD,
    ANONYMOUS_WORD,
    OUTCOMES,
    Step,
    require_window_open,
    targets,
    check_concludable,
    begin,
    choose_target,
    set_content,
    evidence_done,
    set_name,
    submit,
    lodge,
    pending_evidence,
    attach_evidence,
    find,
    listing,
    complaint_data,
    conclude,
)

from workflows.publicity.notice import (  # noqa: F401
    STAGE,
    PublicityView,
    view,
    start_publicity,
    planned_window,
    runs_past_deadline,
    proposed,
    notice_data,
    verification_report,
    send_report,
    application_ids,
)

from workflows.publicity import places  # noqa: F401
from workflows.publicity import publication  # noqa: F401

from workflows.publicity.award import (  # noqa: F401
    PAYMENT_STATES,
    current_approval,
    approval_late,
    record_approval,
    announcement_data,
    announce,
    records,
    find_record,
    set_payment,
    check_payment,
    record_issue,
    ITEMS as AWARD_ITEMS,
)


from workflows.publicity.package import (  # noqa: F401
    GAPS as PACKAGE_GAPS,
    package_data,
    received as applications_received,
    attach_package,
)

from workflows.publicity import certificates  # noqa: F401,E402  (the winners' 证书)

from workflows.publicity import feedback  # noqa: F401,E402  (releasing the applicants' 反馈报告)
