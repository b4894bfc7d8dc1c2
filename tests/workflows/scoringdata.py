"""Test data for expert review: roster, accepted applications, open stages, whole sheets."""
from __future__ import annotations

import datetime as dt

from workflows.core import stages
from workflows.apply.models import AppStatus, Application
from workflows.core.models import Person

# Inside the material review stage of the first edition (deadline 2018-12-20 23:59:59 +08:00).
T_MATERIAL = dt.datetime(2018, 12, 5, 2, 0, tzinfo=dt.timezone.utc)
T_SITE = dt.datetime(2019, 1, 5, 2, 0, tzinfo=dt.timezone.utc)

ROSTER = [
    ("mishu", "秘书处·李敏", "secretariat", "韶关市市场监督管理局", "市直"),
    ("zuzhang", "组长·周立平", "expert_leader", "中国质量协会", "北京市"),
    ("e1", "专家一", "expert", "广东省质量协会", "广州市"),
    ("e2", "专家二", "expert", "华南理工大学", "广州市"),
    ("e3", "专家三", "expert", "深圳市标准技术研究院", "深圳市"),
    ("e4", "专家四", "expert", "佛山市质量研究院", "佛山市"),
    ("e5", "专家五", "expert", "韶关学院", "浈江区"),
    ("e6", "专家六", "expert", "韶钢集团", "曲江区"),
]

# 24 items at p% each: total = 10 × p.
ITEM_KEYS = ["4.1.2", "4.1.3", "4.1.4", "4.2.2", "4.2.3", "4.3.2", "4.3.3", "4.4.2", "4.4.3", "4.4.4",
             "4.4.5", "4.4.6", "4.4.7", "4.5.2", "4.5.3", "4.6.2", "4.6.3", "4.7.2", "4.7.3", "4.7.4",
             "4.7.5", "4.7.6", "4.7.7"]


def uniform(percent: int) -> dict[str, int]:
    """Every item at the same percentage: the total is 10 × percent points."""
    return {k: percent for k in ITEM_KEYS}


def sheet_text(percentages: dict[str, int]) -> str:
    """A whole-sheet chat message."""
    return " ".join(f"{k}={v}%" for k, v in percentages.items())


def add_roster(session, now, rows=ROSTER) -> None:
    """Add roster members."""
    for userid, name, role, org, region in rows:
        session.add(Person(userid=userid, name=name, role=role, organization=org, region=region, updated_at=now))
    session.flush()


def add_application(session, settings, n: int, *, name: str | None = None, region: str = "440203",
                    status: str = AppStatus.ACCEPTED, now=T_MATERIAL) -> Application:
    """An application as it stands after formal review (accepted)."""
    app = Application(edition=settings.award.edition_key, number=f"SG2018-{n:03d}", applicant=f"qiye{n}",
                      status=status, enterprise_name=name or f"企业{n}", region_code=region,
                      created_at=now, updated_at=now)
    session.add(app)
    session.flush()
    return app


def open_phase(session, settings, phase: str, now) -> None:
    """Open a scoring stage."""
    stages.open_stage(session, settings, phase, actor="mishu", now=now)


def assign_all(session, settings, phase: str = "material", now=T_MATERIAL) -> dict[int, list[str]]:
    """Propose and confirm an assignment; return experts per application id."""
    from workflows.scoring import experts
    experts.propose(session, settings, actor="mishu", now=now, phase=phase)
    experts.confirm(session, settings, actor="mishu", now=now, phase=phase)
    return experts.assignments(session, settings, phase)


def score(session, settings, expert: str, number: str, percentages: dict[str, int], *, phase: str = "material",
          now=T_MATERIAL):
    """An expert enters and confirms a whole sheet through the services."""
    from workflows.scoring import sheets as scoring
    sheet = scoring.open_sheet(session, settings, actor=expert, now=now, phase=phase, number=number)
    entry = scoring.enter_sheet(session, settings, actor=expert, now=now, sheet_id=sheet.id,
                                text=sheet_text(percentages))
    assert entry.complete, entry
    from workflows.scoring.comments import missing_reasons
    for key in missing_reasons(session, settings, sheet):   # a score far from the others' gives its reason
        scoring.set_reason(session, settings, actor=expert, now=now, sheet_id=sheet.id, item_key=key,
                           reason="依据现场核实的事实")
    return scoring.confirm_sheet(session, settings, actor=expert, now=now, sheet_id=sheet.id)
