"""The one typed, validated configuration object (loaded from TOML).

It lives in ``workflows`` because the award's rules are configuration; ``bot`` loads it.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator, model_validator

from workflows.core.awardconf import (  # noqa: F401  (re-exported: the one settings module)
    STAGE_KEYS, AgencyConf, ApplicationConf, AwardDecisionConf, CallConf, CommitteeConf, Contact, DEFAULT_ENTERPRISE_TYPES,
    EligibilityConf, EnterpriseTypeConf, MaterialConf, PledgeConf, Region, Reminders, RubricCategoryConf, RubricConf,
    RubricItemConf, Rules, SecretariatContact, Stage, StrictModel, parse_offset,
)


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the key."""


class WecomSettings(StrictModel):
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


class DatabaseSettings(StrictModel):
    """Where the state lives."""

    url: str = "sqlite:///var/awardbot.sqlite3"


class ServerSettings(StrictModel):
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
    # The address the reverse proxy in front connects from ("127.0.0.1" for nginx on this machine). Only a
    # request from that address has its X-Forwarded-For (the client's address) and X-Forwarded-Proto believed;
    # empty: no proxy, the peer is the client. waitress applies it (bot/serve.py, docs/operations.md).
    trusted_proxy: str = ""

    @field_validator("trusted_proxy")
    @classmethod
    def _proxy_address(cls, v: str) -> str:
        if not v.strip():
            return ""
        try:
            return str(ipaddress.ip_address(v.strip()))   # waitress compares the peer address as text
        except ValueError:
            raise ValueError(f"{v!r} is not an IP address: give the address your reverse proxy connects from, "
                             "e.g. \"127.0.0.1\" (empty: no proxy)") from None
    # One clock (docs/operator.md): false on a real deployment, where every change happens at the server's time
    # and state-changing commands refuse `--now`; true only for the demo, the sample edition and training copies.
    time_travel: bool = False


class ComplaintPageSettings(StrictModel):
    """The public complaint page (GET/POST /complaints): limits against abuse without outside services."""

    per_ip_per_hour: int = Field(default=10, ge=1)       # form submissions (any outcome) from one address
    per_phone_per_day: int = Field(default=3, ge=1)      # complaints lodged with one phone number
    max_files: int = Field(default=5, ge=0, le=20)       # evidence files in one submission
    form_minutes: int = Field(default=60, ge=5)          # how long a served form (challenge, CSRF token) is valid
    # Replaced by [server] trusted_proxy: 0 (the old default) still loads; any other value is refused by name.
    proxy_hops: int = 0

    @field_validator("proxy_hops")
    @classmethod
    def _replaced(cls, v: int) -> int:
        if v:
            raise ValueError("replaced by [server] trusted_proxy: remove proxy_hops and set trusted_proxy to the "
                             "address your reverse proxy connects from, e.g. trusted_proxy = \"127.0.0.1\"")
        return v


class StorageSettings(StrictModel):
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


class SenderSettings(StrictModel):
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


class SchedulerSettings(StrictModel):
    """The reminder sweep."""

    run_in_serve: bool = True
    sweep_seconds: int = Field(default=60, ge=5)
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    lock_file: str = "var/scheduler.lock"


class RetentionSettings(StrictModel):
    """How long the live database keeps a finished edition's personal data (workflows/retention.py)."""

    # Days after the edition's archive before `edition purge` may blank its personal data. [decision] 180: the
    # six months within which the award's decisions can still be taken to court (行政诉讼法 §46).
    purge_after_days: int = Field(default=180, ge=0)


class AwardSettings(StrictModel):
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
    # [seed §二 具有法人资格] the enterprise types asked in the application; only legal persons may apply.
    enterprise_types: list[EnterpriseTypeConf] = Field(default=list(DEFAULT_ENTERPRISE_TYPES), min_length=1)
    application: ApplicationConf = ApplicationConf()
    call: CallConf = CallConf()
    secretariat: SecretariatContact = SecretariatContact()
    agency: AgencyConf = AgencyConf()
    pledges: PledgeConf = PledgeConf()
    committee: CommitteeConf = CommitteeConf()
    decision: AwardDecisionConf = AwardDecisionConf()

    @property
    def signer(self) -> str:
        """Who issues the 表彰决定: `[award.decision] signer`, else the city's government."""
        return self.decision.signer or f"{self.city}人民政府"

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
        previous: Stage | None = None
        for s in sorted(self.stages, key=lambda st: STAGE_KEYS.index(st.key)):
            if s.deadline.tzinfo is None:
                object.__setattr__(s, "deadline", s.deadline.replace(tzinfo=ZoneInfo(self.timezone)))
            if s.start is None:   # [decision] the day after the previous stage's deadline (the first: its day)
                day = (previous.deadline if previous else s.deadline).astimezone(ZoneInfo(self.timezone)).date()
                day += dt.timedelta(days=1 if previous else 0)
                start = dt.datetime.combine(day, dt.time(0, 0), ZoneInfo(self.timezone))
                # two stages sharing a deadline (the call and the training) start together
                object.__setattr__(s, "start", start if start <= s.deadline or previous is None else previous.start)
            elif s.start.tzinfo is None:
                object.__setattr__(s, "start", s.start.replace(tzinfo=ZoneInfo(self.timezone)))
            if s.start > s.deadline:
                raise ValueError(f"stage {s.key}: start {s.start:%Y-%m-%d} is after its deadline")
            previous = s
        ordered = [self.stage(k).deadline for k in STAGE_KEYS]
        if ordered != sorted(ordered):
            raise ValueError("stage deadlines must follow the order " + " < ".join(STAGE_KEYS))
        if len({m.key for m in self.materials}) != len(self.materials):
            raise ValueError("material keys must be unique")
        if len({t.key for t in self.enterprise_types}) != len(self.enterprise_types):
            raise ValueError("enterprise_types keys must be unique")
        if not any(t.legal_person for t in self.enterprise_types):
            raise ValueError("enterprise_types: at least one type must be a legal person (legal_person = true)")
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


class Settings(StrictModel):
    """The whole configuration."""

    wecom: WecomSettings
    database: DatabaseSettings = DatabaseSettings()
    server: ServerSettings
    storage: StorageSettings = StorageSettings()
    sender: SenderSettings = SenderSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    complaint_page: ComplaintPageSettings = ComplaintPageSettings()
    retention: RetentionSettings = RetentionSettings()
    award: AwardSettings

    def with_calendar_shift(self, days: int) -> "Settings":
        """The same settings with every stage's start and deadline moved by whole days (demos, training)."""
        shift = dt.timedelta(days=days)
        stages = [s.model_copy(update={"deadline": s.deadline + shift,
                                       "start": s.start + shift if s.start else None}) for s in self.award.stages]
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
