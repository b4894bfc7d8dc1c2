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
    """One stage of the award with its deadline."""

    key: Literal[STAGE_KEYS]  # type: ignore[valid-type]
    name: str
    deadline: dt.datetime

    @field_validator("deadline", mode="before")
    @classmethod
    def _date_means_end_of_day(cls, v: object) -> object:
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return dt.datetime.combine(v, dt.time(23, 59, 59))
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

    @model_validator(mode="after")
    def _distinct(self) -> "ApplicationConf":
        if self.number_prefix.upper() == self.complaint_prefix.upper():
            raise ValueError("complaint_prefix must differ from number_prefix (an application and a complaint "
                             "would share a number)")
        return self


class SecretariatContact(StrictModel):
    """How the public reaches the secretariat outside WeCom (printed in every public-notice text)."""

    phone: str = ""
    address: str = ""
    postcode: str = Field(default="", pattern=r"^(\d{6})?$")


class EligibilityConf(StrictModel):
    """One eligibility question."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    question: str
    kind: Literal["must_yes", "info"] = "must_yes"
    reason: str = ""


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
    app_name: str = "质量奖评审助手"        # the WeCom app's name as enterprises see it in 工作台
    join_guide: str = ""                  # where the "how an enterprise gets into the app" steps are published
    # The channels the call is published on (the same keys as the public notice's) and their names.
    channels: list[Literal["portal", "newspaper", "tv", "app"]] = ["portal", "newspaper", "tv", "app"]
    channel_names: dict[str, str] = {"portal": "门户网站", "newspaper": "日报", "tv": "电视台", "app": "政务新媒体"}
    training_signup_max: int = Field(default=5, ge=1, le=10)  # people one unit may sign up with one card
