"""The one typed, validated configuration object (loaded from TOML).

It lives in ``workflows`` because the award's rules are configuration; ``bot`` loads it.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

STAGE_KEYS = (
    "plan", "committee_meeting", "call", "training", "apply", "review",
    "material", "site", "vote", "publicity", "approval", "award",
)


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WecomSettings(_Strict):
    """How to reach WeCom and verify its callbacks."""

    corp_id: str = Field(min_length=1)
    agent_id: int
    secret: str = Field(min_length=1)
    token: str = Field(min_length=1, max_length=32)
    encoding_aes_key: str = Field(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9]{43}$")
    api_base_url: str = "https://qyapi.weixin.qq.com"
    # Sign-in to the workbench: OAuth inside the WeCom client, and the desktop web login (QR code).
    # The demo points both at the local stand-in.
    oauth_base_url: str = "https://open.weixin.qq.com"
    login_base_url: str = "https://login.work.weixin.qq.com"
    request_timeout_seconds: float = Field(default=10, gt=0, le=60)
    callback_max_bytes: int = Field(default=65536, ge=1024)
    timestamp_tolerance_seconds: int = Field(default=300, ge=1)
    # Linked corps (上下游 downstream corps) whose CorpID may appear as a callback's receive-id; see docs/reach.md.
    linked_corp_ids: list[str] = []

    @field_validator("api_base_url", "oauth_base_url", "login_base_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")


class DatabaseSettings(_Strict):
    """Where the state lives."""

    url: str = "sqlite:///var/awardbot.sqlite3"


class ServerSettings(_Strict):
    """The web server and the links it hands out."""

    host: str = "127.0.0.1"
    port: int = Field(default=8800, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8800"
    secret_key: str = Field(min_length=16)
    upload_token_minutes: int = Field(default=120, ge=1)
    view_token_hours: int = Field(default=72, ge=1)
    # The workbench's sign-in session: ends after this long without a click, and at the latest after max hours.
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: int = Field(default=12, ge=1)
    threads: int = Field(default=8, ge=1)
    # /healthz answers only ok / not ok to the world; the details go to a direct loopback request (unless
    # health_local_details is false) and to whoever sends this token (empty: nobody by token).
    health_token: str = ""
    health_local_details: bool = True


class ComplaintPageSettings(_Strict):
    """The public complaint page (GET/POST /complaints): limits against abuse without outside services."""

    per_ip_per_hour: int = Field(default=10, ge=1)       # form submissions (any outcome) from one address
    per_phone_per_day: int = Field(default=3, ge=1)      # complaints lodged with one phone number
    max_files: int = Field(default=5, ge=0, le=20)       # evidence files in one submission
    form_minutes: int = Field(default=60, ge=5)          # how long a served form (challenge, CSRF token) is valid
    proxy_hops: int = Field(default=0, ge=0, le=5)       # trusted reverse proxies setting X-Forwarded-For


class StorageSettings(_Strict):
    """Where uploaded documents are kept."""

    dir: str = "var/uploads"
    # Where published notice texts and reports are written; empty = "notices" beside `dir`.
    publications_dir: str = ""
    # Key files of sealed data (the committee vote's per-round keys); empty = "keys" beside `dir`.
    # Keep it out of database backups: the database plus a live key file can open a round's papers.
    keys_dir: str = ""
    # ZIP-based uploads (docx, xlsx, zip): limits against zip bombs.
    zip_max_total_mb: int = Field(default=200, ge=1)
    zip_max_ratio: float = Field(default=100, gt=1)
    zip_ratio_min_kb: int = Field(default=64, ge=0)
    zip_max_members: int = Field(default=2000, ge=1)
    zip_max_depth: int = Field(default=2, ge=1)


class SenderSettings(_Strict):
    """Outbox delivery: WeCom's per-member limits and the retry policy."""

    max_per_minute: int = Field(default=30, ge=1, le=30)
    max_per_hour: int = Field(default=1000, ge=1, le=1000)
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_seconds: float = Field(default=2, gt=0)
    backoff_max_seconds: float = Field(default=600, gt=0)
    duplicate_check_interval: int = Field(default=1800, ge=0, le=14400)
    poll_seconds: float = Field(default=0.5, gt=0)
    batch_size: int = Field(default=20, ge=1)
    gather_seconds: float = Field(default=0.05, ge=0, le=1)  # busy: wait this long for a batch to gather


class SchedulerSettings(_Strict):
    """The reminder sweep."""

    run_in_serve: bool = True
    sweep_seconds: int = Field(default=60, ge=5)
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    lock_file: str = "var/scheduler.lock"


class Stage(_Strict):
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


class Region(_Strict):
    """A county/district that recommends its enterprises."""

    code: str = Field(pattern=r"^\d{6}$")
    name: str


class Rules(_Strict):
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


class Reminders(_Strict):
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


class RubricItemConf(_Strict):
    """A scored sub-item of the rubric."""

    key: str
    name: str
    max: int = Field(ge=1)


class RubricCategoryConf(_Strict):
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


class RubricConf(_Strict):
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


class MaterialConf(_Strict):
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


class ApplicationConf(_Strict):
    """How the edition numbers what it receives: <prefix>-001, -002, … per kind (workflows.core.numbers)."""

    number_prefix: str = Field(default="SG2018", pattern=r"^[A-Za-z0-9-]{1,16}$")      # applications
    complaint_prefix: str = Field(default="TS2018", pattern=r"^[A-Za-z0-9-]{1,16}$")   # complaints

    @model_validator(mode="after")
    def _distinct(self) -> "ApplicationConf":
        if self.number_prefix.upper() == self.complaint_prefix.upper():
            raise ValueError("complaint_prefix must differ from number_prefix (an application and a complaint "
                             "would share a number)")
        return self


class SecretariatContact(_Strict):
    """How the public reaches the secretariat outside WeCom (printed in every public-notice text)."""

    phone: str = ""
    address: str = ""
    postcode: str = Field(default="", pattern=r"^(\d{6})?$")


class EligibilityConf(_Strict):
    """One eligibility question."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    question: str
    kind: Literal["must_yes", "info"] = "must_yes"
    reason: str = ""


class Contact(_Strict):
    """A person applicants may call (the call for applications, the training notice)."""

    name: str
    phone: str
    role: str = ""


class CallConf(_Strict):
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


class AwardSettings(_Strict):
    """The edition: its name, calendar, rules, rubric, materials and questions."""

    edition_key: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    name: str
    edition_name: str
    city: str
    organizer: str
    timezone: str = "Asia/Shanghai"
    calendar_shift_days: int = 0  # demos and training: replay this edition's calendar shifted by whole days
    region_prefixes: list[str] = Field(min_length=1)
    # Who may apply, by the credit code's first characters (GB 32100: 91 enterprise, 92 sole trader, 5x 民政 …).
    registration_kinds: list[str] = Field(default=["91"], min_length=1)
    regions: list[Region] = Field(min_length=1)
    departments: list[str] = []
    industries: list[str] = []
    stages: list[Stage]
    rules: Rules = Rules()
    reminders: Reminders = Reminders()
    rubric: RubricConf
    materials: list[MaterialConf] = Field(min_length=1)
    eligibility: list[EligibilityConf] = []
    application: ApplicationConf = ApplicationConf()
    call: CallConf = CallConf()
    secretariat: SecretariatContact = SecretariatContact()

    @field_validator("registration_kinds")
    @classmethod
    def _kinds(cls, v: list[str]) -> list[str]:
        for kind in v:
            if not (1 <= len(kind) <= 2 and all(ch in "0123456789ABCDEFGHJKLMNPQRTUWXY" for ch in kind)):
                raise ValueError(f"{kind!r} must be 1 or 2 characters of a credit code, e.g. \"91\"")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except Exception as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @model_validator(mode="after")
    def _stages(self) -> "AwardSettings":
        keys = [s.key for s in self.stages]
        missing = [k for k in STAGE_KEYS if k not in keys]
        if missing:
            raise ValueError(f"stages missing: {', '.join(missing)}")
        if len(set(keys)) != len(keys):
            raise ValueError("a stage key appears twice")
        for s in self.stages:
            if s.deadline.tzinfo is None:
                object.__setattr__(s, "deadline", s.deadline.replace(tzinfo=ZoneInfo(self.timezone)))
        ordered = [self.stage(k).deadline for k in STAGE_KEYS]
        if ordered != sorted(ordered):
            raise ValueError("stage deadlines must follow the order " + " < ".join(STAGE_KEYS))
        if len({m.key for m in self.materials}) != len(self.materials):
            raise ValueError("material keys must be unique")
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The award's time zone."""
        return ZoneInfo(self.timezone)

    def stage(self, key: str) -> Stage:
        """The configured stage with this key."""
        for s in self.stages:
            if s.key == key:
                return s
        raise KeyError(key)

    def material(self, key: str) -> MaterialConf:
        """The configured material item with this key."""
        for m in self.materials:
            if m.key == key:
                return m
        raise KeyError(key)


class Settings(_Strict):
    """The whole configuration."""

    wecom: WecomSettings
    database: DatabaseSettings = DatabaseSettings()
    server: ServerSettings
    storage: StorageSettings = StorageSettings()
    sender: SenderSettings = SenderSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    complaint_page: ComplaintPageSettings = ComplaintPageSettings()
    award: AwardSettings

    def with_calendar_shift(self, days: int) -> "Settings":
        """The same settings with every stage deadline moved by whole days (demos, training)."""
        shift = dt.timedelta(days=days)
        stages = [s.model_copy(update={"deadline": s.deadline + shift}) for s in self.award.stages]
        return self.model_copy(update={"award": self.award.model_copy(update={"stages": stages})})

    def with_overrides(self, **sections: dict) -> "Settings":
        """A copy with some top-level sections' keys replaced (tests, demo)."""
        data = self.model_dump()
        for name, values in sections.items():
            data[name] = {**data[name], **values}
        return Settings.model_validate(data)


def load_settings(path: str | Path) -> Settings:
    """Read and validate a TOML configuration file; raise ConfigError naming the bad key."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file not found: {p}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    return parse_settings(raw, source=str(p))


def parse_settings(raw: dict, source: str = "<config>") -> Settings:
    """Validate a configuration mapping; raise ConfigError naming each bad key."""
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(part) for part in err["loc"]) or "(top level)"
            lines.append(f"  {key}: {err['msg']}")
        raise ConfigError(f"{source}: invalid configuration\n" + "\n".join(lines)) from exc
    shift = settings.award.calendar_shift_days
    if shift:
        settings = settings.with_calendar_shift(shift)
        settings = settings.model_copy(update={"award": settings.award.model_copy(update={"calendar_shift_days": 0})})
    return settings
