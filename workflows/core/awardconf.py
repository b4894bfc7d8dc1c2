"""The award's own configuration: stages, rules, reminders, rubric, materials, call and contacts.

Part of the one settings object (`workflows.core.settings`), which re-exports these classes.
"""
from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

STAGE_KEYS = (
    "plan", "committee_meeting", "call", "training", "apply", "review",
    "material", "site", "vote", "publicity", "approval", "award",
)


class StrictModel(BaseModel):
    """A configuration section: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(StrictModel):
    """One stage of the award with its planned start and its deadline.

    `start` (a date means its first second) is when the stage is planned to begin; left out, the stage starts
    the day after the previous stage's deadline (the first stage: its deadline's day). It is shown beside the
    deadline (`阶段`, the workbench) and warned of when a stage is opened before it; the deadline stays the rule.
    """

    key: Literal[STAGE_KEYS]  # type: ignore[valid-type]
    name: str
    start: dt.datetime | None = None
    deadline: dt.datetime

    @field_validator("deadline", mode="before")
    @classmethod
    def _date_means_end_of_day(cls, v: object) -> object:
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return dt.datetime.combine(v, dt.time(23, 59, 59))
        return v

    @field_validator("start", mode="before")
    @classmethod
    def _date_means_start_of_day(cls, v: object) -> object:
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return dt.datetime.combine(v, dt.time(0, 0, 0))
        return v


class Region(StrictModel):
    """A county/district that recommends its enterprises."""

    code: str = Field(pattern=r"^\d{6}$")
    name: str


class Rules(StrictModel):
    """Every count, threshold and weight of the award."""

    experts_per_application: int = Field(default=5, ge=1)
    aggregation: Literal["mean", "trimmed_mean"] = "mean"
    trim: int = Field(default=1, ge=0)
    disagreement_total_points: int = Field(default=100, ge=0)
    disagreement_item_percent: int = Field(default=20, ge=0, le=100)
    candidates_max: int = Field(default=6, ge=1)
    material_gate: int = Field(default=450, ge=0)
    weight_material_percent: int = Field(default=40, ge=0, le=100)
    weight_site_percent: int = Field(default=60, ge=0, le=100)
    vote_top: int = Field(default=5, ge=1)
    winners: int = Field(default=3, ge=1)
    quorum: str = Field(default="2/3", pattern=r"^\d+/\d+$")
    allow_ballot_change: bool = False
    vote_conflict_policy: Literal["exclude", "allow"] = "exclude"
    # How many votes a winner needs: more than this fraction of the members who voted ("0": no threshold), and
    # what follows when fewer than `winners` reach it (a further round among the rest, or places left empty).
    win_majority: str = Field(default="1/2", pattern=r"^(0|\d+/\d+)$")
    win_shortfall: Literal["runoff", "vacant"] = "runoff"
    # Who decides a tie straddling the site-visit or finalist cut ([decision]: the seed is silent).
    tie_at_cut_decided_by: Literal["expert_leader", "committee_chair"] = "expert_leader"
    # -- committee vote (stage 7.3) --
    runoff_hours: int = Field(default=48, ge=1)   # how long an automatic runoff round stays open
    supplement_days: int = Field(default=7, ge=1)
    publicity_days: int = Field(default=10, ge=1)
    publicity_start_day_counts: bool = True
    anonymous_complaints: bool = False
    prize_yuan: int = Field(default=500000, ge=0)
    # -- publicity, complaints and award (issue 7) --
    publicity_channels: list[Literal["portal", "newspaper", "tv", "app"]] = ["portal", "newspaper", "tv", "app"]
    complaint_evidence_kinds: list[str] = ["pdf", "jpeg", "png", "docx"]
    complaint_evidence_max_mb: int = Field(default=20, ge=1)
    # Expert scoring (issue 5): days a sheet reopened by the leader after the deadline stays editable.
    reopen_days: int = Field(default=2, ge=1)
    # Conflict of interest (issue 25.4): the lookback of the declaration an expert makes before files open.
    conflict_lookback_years: int = Field(default=3, ge=1)
    # Comments with scores (issue 25.1): an item scored more than this many percentage points from the mean of the
    # other experts' confirmed sheets asks for its reason.
    outlier_item_percent: int = Field(default=20, ge=0, le=100)
    # The expert draw (§三(七) 从省政府质量奖评审专家库抽选): reserves drawn after the experts.
    expert_reserves: int = Field(default=2, ge=0)

    @property
    def quorum_fraction(self) -> Fraction:
        """The quorum as an exact fraction."""
        return Fraction(self.quorum)

    @model_validator(mode="after")
    def _weights(self) -> "Rules":
        if self.weight_material_percent + self.weight_site_percent != 100:
            raise ValueError("weight_material_percent + weight_site_percent must be 100")
        if self.winners > self.vote_top:
            raise ValueError("winners cannot exceed vote_top")
        if not 0 < Fraction(self.quorum) <= 1:
            raise ValueError("quorum must be a fraction in (0, 1]")
        if not 0 <= Fraction(self.win_majority) < 1:
            raise ValueError("win_majority must be 0 or a fraction in (0, 1)")
        return self


class Reminders(StrictModel):
    """When reminders go out before a deadline."""

    offsets: list[str] = ["7d", "3d", "1d", "2h"]
    quiet_start: dt.time = dt.time(22, 0)
    quiet_end: dt.time = dt.time(8, 0)
    quiet_resume: dt.time = dt.time(8, 30)

    @field_validator("offsets")
    @classmethod
    def _offsets(cls, v: list[str]) -> list[str]:
        for item in v:
            parse_offset(item)
        return v

    def offset_deltas(self) -> list[tuple[str, dt.timedelta]]:
        """The offsets as (label, timedelta), largest first."""
        return sorted(((o, parse_offset(o)) for o in self.offsets), key=lambda p: -p[1])


def parse_offset(text: str) -> dt.timedelta:
    """Parse '7d', '2h' or '30m' into a timedelta."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError(f"offset {text!r} must look like 7d, 2h or 30m")
    return dt.timedelta(**{units[text[-1]]: int(text[:-1])})


class RubricItemConf(StrictModel):
    """A scored sub-item of the rubric."""

    key: str
    name: str
    max: int = Field(ge=1)


class RubricCategoryConf(StrictModel):
    """A rubric category (GB/T 19580 item 4.x) and its sub-items."""

    key: str
    name: str
    max: int = Field(ge=1)
    process: bool = True   # a process category (方法、展开、学习、整合); False: results (水平、趋势、对比、整合)
    items: list[RubricItemConf] = []

    @model_validator(mode="after")
    def _sums(self) -> "RubricCategoryConf":
        if self.items and sum(i.max for i in self.items) != self.max:
            raise ValueError(f"items of {self.key} sum to {sum(i.max for i in self.items)}, not {self.max}")
        return self


class RubricConf(StrictModel):
    """The scoring rubric: categories, bands and the percentage step."""

    standard: str                                                       # GB/T 19580-2012 by default
    guide: str = "GB/Z 19579-2012《卓越绩效评价准则实施指南》"           # how it is scored (the bands)
    total: int = 1000
    step_percent: int = Field(default=5, ge=1, le=100)
    bands: list[tuple[int, int]] = [(0, 5), (10, 25), (30, 45), (50, 65), (70, 85), (90, 100)]
    categories: list[RubricCategoryConf]

    @model_validator(mode="after")
    def _total(self) -> "RubricConf":
        if sum(c.max for c in self.categories) != self.total:
            raise ValueError(f"categories sum to {sum(c.max for c in self.categories)}, not {self.total}")
        return self


class MaterialConf(StrictModel):
    """One item of the material checklist."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""
    required: bool = True
    kinds: list[str] = ["pdf"]
    max_mb: int = Field(default=20, ge=1)
    provided_by: Literal["applicant", "recommender"] = "applicant"

    @property
    def max_bytes(self) -> int:
        """The size limit in bytes."""
        return self.max_mb * 1024 * 1024


class ApplicationConf(StrictModel):
    """How the edition numbers what it receives: <prefix>-001, -002, … per kind (workflows.core.numbers)."""

    number_prefix: str = Field(default="SG2018", pattern=r"^[A-Za-z0-9-]{1,16}$")      # applications
    complaint_prefix: str = Field(default="TS2018", pattern=r"^[A-Za-z0-9-]{1,16}$")   # complaints
    certificate_prefix: str = Field(default="ZS2018", pattern=r"^[A-Za-z0-9-]{1,16}$")  # winners' 证书

    @model_validator(mode="after")
    def _distinct(self) -> "ApplicationConf":
        prefixes = [self.number_prefix.upper(), self.complaint_prefix.upper(), self.certificate_prefix.upper()]
        if len(set(prefixes)) < len(prefixes):
            raise ValueError("number_prefix, complaint_prefix and certificate_prefix must differ (two kinds of "
                             "record would share a number)")
        return self


class SecretariatContact(StrictModel):
    """How the public reaches the secretariat outside WeCom (printed in every public-notice text)."""

    phone: str = ""
    address: str = ""
    postcode: str = Field(default="", pattern=r"^(\d{6})?$")


class AwardDecisionConf(StrictModel):
    """The award itself (seed §三(九), §四): who issues the 表彰决定, and the budget line of the approval report."""

    # [seed §四] 由市政府表彰奖励: the decision is the city government's; the secretariat (`organizer`) drafts it.
    # Empty: "<city>人民政府".
    signer: str = ""
    # [seed §四] the budget line the report to the city states.
    budget: str = "奖励经费和评审经费由市财政统一安排"


class EligibilityConf(StrictModel):
    """One eligibility question."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    question: str
    kind: Literal["must_yes", "info"] = "must_yes"
    reason: str = ""
    # How the call for applications states this condition to the public ("" : not stated there, e.g. because the
    # seed's own words in [award.call] conditions already say it).
    condition: str = ""


class EnterpriseTypeConf(StrictModel):
    """One enterprise type the applicant chooses from (营业执照「类型」): a legal person or not, and why not."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    legal_person: bool
    reason: str = ""        # shown when the type is refused (why it is not a legal person, what to do instead)


# [seed §二 具有法人资格] [decision: the list] The default when a configuration names none (config.example.toml).
DEFAULT_ENTERPRISE_TYPES = (
    EnterpriseTypeConf(key="llc", name="有限责任公司（含一人有限责任公司、国有独资公司）", legal_person=True),
    EnterpriseTypeConf(key="joint_stock", name="股份有限公司", legal_person=True),
    EnterpriseTypeConf(key="non_company", name="非公司企业法人（全民所有制、集体所有制等）", legal_person=True),
    EnterpriseTypeConf(key="branch", name="分公司或其他分支机构", legal_person=False,
                       reason="分公司等分支机构不具有法人资格，其民事责任由设立它的公司承担；"
                              "请由具有法人资格的总公司申报。"),
    EnterpriseTypeConf(key="sole_proprietorship", name="个人独资企业", legal_person=False,
                       reason="个人独资企业由投资人以个人财产承担无限责任，不具有法人资格。"),
    EnterpriseTypeConf(key="partnership", name="合伙企业", legal_person=False,
                       reason="合伙企业由合伙人承担无限连带责任，不具有法人资格。"),
)


class Contact(StrictModel):
    """A person applicants may call (the call for applications, the training notice)."""

    name: str
    phone: str
    role: str = ""


class CallConf(StrictModel):
    """Stages 3–4: the call for applications (征集) and the training event (宣贯会暨培训)."""

    office: str = ""                      # who answers questions (defaults to the organizer)
    address: str = ""
    contacts: list[Contact] = []
    # [seed §二] the conditions as the plan words them, printed by the call (not the chat's yes/no questions)
    conditions: list[str] = ["在韶关市登记注册，具有法人资格",
                             "质量管理成效显著，产品、服务、工程、环保质量、自主创新能力和市场竞争力等在我市处于领先地位",
                             "对全市经济社会发展作出卓越贡献"]
    app_name: str = "质量奖评审助手"        # the WeCom app's name as enterprises see it in 工作台
    join_guide: str = ""                  # where the "how an enterprise gets into the app" steps are published
    # The channels the call is published on (the same keys as the public notice's) and their names.
    channels: list[Literal["portal", "newspaper", "tv", "app"]] = ["portal", "newspaper", "tv", "app"]
    channel_names: dict[str, str] = {"portal": "门户网站", "newspaper": "日报", "tv": "电视台", "app": "政务新媒体"}
    training_signup_max: int = Field(default=5, ge=1, le=10)  # people one unit may sign up with one card


class AgencyConf(StrictModel):
    """The entrusted technical service institution (§三(七) 秘书处委托省内有资质的技术服务机构组织开展评审工作):
    its name and exactly what the secretariat delegates to its members (roster role `agency`)."""

    name: str = ""
    powers: list[str] = ["experts.assign", "experts.enrol", "visits.propose", "scoring.import",
                         "assignments.view", "scores.view"]

    @field_validator("powers")
    @classmethod
    def _powers(cls, v: list[str]) -> list[str]:
        from workflows.core.access import DELEGABLE
        bad = [p for p in v if p not in DELEGABLE]
        if bad:
            raise ValueError(f"{bad} cannot be delegated; choose among {sorted(DELEGABLE)}")
        return v


class PledgeConf(StrictModel):
    """§五(三) 参与推荐和评审的人员…保守秘密: who signs the confidentiality pledge (besides the drawn experts, who sign
    theirs through the draw), and whether committee members declare their own conflicts before a vote opens."""

    roles: list[Literal["recommender", "committee", "committee_chair", "agency"]] = [
        "recommender", "committee", "committee_chair", "agency"]
    committee_declarations: bool = True


class CommitteeConf(StrictModel):
    """The committee's composition (§五(一) 成立由分管副市长为主任的…评审委员会): which office chairs it."""

    chair_office: str = Field(default="分管副市长", min_length=1, max_length=100)
