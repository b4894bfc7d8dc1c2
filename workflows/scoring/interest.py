"""Conflict of interest per assignment (利益冲突声明, issue 25.4).

Before the files of an application assigned to him open (chat `查阅`, the workbench's documents), an expert
declares either that he has no conflict with the enterprise — no employment, consulting, supplier or customer
relation in the last `conflict_lookback_years` years, no family tie with its management — or that he has one,
with a reason code; the latter is a 回避 (`experts.declare_conflict`): his assignment is withdrawn and the
secretariat is told to reassign. One declaration per expert and application covers both phases. The declarations
(counts and reason codes, no names) are listed in the approval report.
"""
from __future__ import annotations

import datetime as dt
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.core import access, audit
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.core.settings import Settings
from workflows.scoring.models import Assignment, InterestDeclaration

NONE = "none"
CONFLICT = "conflict"
# The reason codes of a declared conflict, in the order chat numbers them (1–6).
CODES = ("employment", "consulting", "supplier", "customer", "family", "other")
# Words an expert may type for a code (besides its number).
CODE_WORDS = {"任职": "employment", "雇佣": "employment", "兼职": "employment", "咨询": "consulting",
              "顾问": "consulting", "供应商": "supplier", "客户": "customer", "亲属": "family", "家属": "family",
              "其他": "other"}
NOTE_MAX = 200


def parse_code(text: str) -> tuple[str, str]:
    """'2 曾为其做质量管理咨询' → ('consulting', '曾为其做质量管理咨询'); an unrecognised start is 'other' with
    the whole text as the note (so a free-text 回避 reason keeps working)."""
    text = " ".join(unicodedata.normalize("NFKC", text or "").split())
    head, _, rest = text.partition(" ")
    if head.isdigit() and 1 <= int(head) <= len(CODES):
        return CODES[int(head) - 1], rest[:NOTE_MAX]
    if head in CODES:
        return head, rest[:NOTE_MAX]
    for word, code in CODE_WORDS.items():
        if head.startswith(word) and len(head) <= len(word) + 2:   # 亲属 / 亲属关系 / 咨询：
            return code, rest[:NOTE_MAX]
    return "other", text[:NOTE_MAX]


def declaration(session: Session, expert: str, app_id: int) -> InterestDeclaration | None:
    """The expert's declaration for this application, if he made one."""
    return session.scalar(select(InterestDeclaration).where(InterestDeclaration.expert == expert,
                                                            InterestDeclaration.application_id == app_id))


def declared(session: Session, expert: str, app_id: int) -> bool:
    """Whether the expert declared no conflict with this application (its files may open to him)."""
    row = declaration(session, expert, app_id)
    return row is not None and row.outcome == NONE


def assigned_application(session: Session, settings: Settings, expert: str, number: str) -> Application:
    """The application if it is assigned to the expert in either phase; NotFound (no hint it exists) otherwise."""
    canonical = "".join(unicodedata.normalize("NFKC", number or "").split()).upper()
    app = session.scalar(select(Application).where(Application.edition == settings.award.edition_key,
                                                   Application.number == canonical))
    if app is None:
        raise NotFound("not_assigned", number=number)
    found = session.scalar(select(Assignment.id).where(Assignment.edition == app.edition, Assignment.expert == expert,
                                                       Assignment.application_id == app.id).limit(1))
    if found is None:
        raise NotFound("not_assigned", number=number)
    return app


def check_declarable(session: Session, settings: Settings, expert: str, number: str) -> Application:
    """Every check `declare_none` makes: assigned to him, not declared yet."""
    app = assigned_application(session, settings, expert, number)
    row = declaration(session, expert, app.id)
    if row is not None:
        raise AlreadyDone("interest_already_declared", number=app.number, outcome=row.outcome)
    return app


@access.guarded("experts.declare_conflict")
def declare_none(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                 number: str) -> Application:
    """Record that the expert has no conflict with an application assigned to him; audited."""
    app = check_declarable(session, settings, actor, number)
    session.add(InterestDeclaration(edition=app.edition, expert=actor, application_id=app.id, outcome=NONE,
                                    code="", note="", declared_at=now))
    audit.record(session, actor=actor, action="interest.declare", subject=f"application:{app.id}", now=now,
                 number=app.number, outcome=NONE, lookback_years=settings.award.rules.conflict_lookback_years)
    return app


def record_conflict(session: Session, app: Application, expert: str, *, code: str, note: str,
                    now: dt.datetime) -> None:
    """The declaration side of a 回避 (called by `experts.declare_conflict`): a conflict with its reason code,
    replacing an earlier 'no conflict' (the expert learnt of a relation later)."""
    if code not in CODES:
        raise InvalidInput("interest_bad_code", code=code, codes=list(CODES))
    row = declaration(session, expert, app.id)
    if row is None:
        row = InterestDeclaration(edition=app.edition, expert=expert, application_id=app.id)
        session.add(row)
    row.outcome, row.code, row.note, row.declared_at = CONFLICT, code, note[:NOTE_MAX], now


def require_declared(session: Session, expert: str, app: Application) -> None:
    """InvalidInput('interest_undeclared') unless the expert declared no conflict with the application."""
    if not declared(session, expert, app.id):
        raise InvalidInput("interest_undeclared", number=app.number)


def summary(session: Session, settings: Settings) -> list[dict]:
    """Per application with declarations: how many experts declared no conflict, and each declined one's
    reason code — no names (the approval report and the workbench's overview)."""
    rows: dict[int, dict] = {}
    for d, app in session.execute(
            select(InterestDeclaration, Application).join(Application, Application.id == InterestDeclaration.application_id)
            .where(InterestDeclaration.edition == settings.award.edition_key)
            .order_by(Application.id, InterestDeclaration.id)):
        entry = rows.setdefault(app.id, {"number": app.number, "name": app.enterprise_name, "none": 0, "codes": []})
        if d.outcome == NONE:
            entry["none"] += 1
        else:
            entry["codes"].append(d.code)
    return list(rows.values())


def of_application(session: Session, app_id: int) -> list[InterestDeclaration]:
    """Every declaration about one application, oldest first (the workbench's application page)."""
    return list(session.scalars(select(InterestDeclaration).where(InterestDeclaration.application_id == app_id)
                                .order_by(InterestDeclaration.id)))
