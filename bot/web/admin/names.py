"""Names, not codes: people by name, audit actions and subjects in Chinese, details as a clerk reads them.

The words live in templates/_names.j2 (one table for the pages, the audit log and the XLSX exports); the codes stay
in the audit's raw view (`/admin/audit?raw=1`) and in the archive.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Iterable

from sqlalchemy import select

from workflows.apply.models import Application
from workflows.core.models import Person

DETAIL_MAX = 160   # characters of one detail's value before it is cut ("…"): the raw view has it whole


def table(env) -> Any:  # noqa: ANN001
    """templates/_names.j2 as a module (its dicts: actions, subjects, actors, details, sources, …)."""
    return env.get_template("_names.j2").module


def action(words: Any, code: str) -> str:
    """An audit action in words; `review.finding.<kind>` by its family; an unknown code as stored."""
    if code in words.actions:
        return words.actions[code]
    family = code.rsplit(".", 1)[0]
    return words.actions.get(family, code)


def who(session, words: Any, userids: Iterable[str]) -> dict[str, str]:  # noqa: ANN001
    """Display names: a roster member's name, an applicant's contact and enterprise, a reserved actor's word."""
    ids = sorted({u for u in userids if u})
    out = dict(session.execute(select(Person.userid, Person.name).where(Person.userid.in_(ids or [""]))).all())
    rest = [u for u in ids if u not in out]
    for app in session.scalars(select(Application).where(Application.applicant.in_(rest or [""]))
                               .order_by(Application.id)):
        enterprise = app.enterprise_name or "申报企业"
        out.setdefault(app.applicant, f"{app.contact_name}（{enterprise}）" if app.contact_name else enterprise)
    for u in ids:
        out.setdefault(u, words.actors.get(u, u))
    return out


def applications(session, ids: Iterable[int]) -> dict[int, str]:  # noqa: ANN001
    """'SG2018-007 · 企业名' for application ids."""
    wanted = sorted({int(i) for i in ids})
    return {a.id: f"{a.number or '#' + str(a.id)} · {a.enterprise_name or ''}".rstrip(" ·")
            for a in session.scalars(select(Application).where(Application.id.in_(wanted or [0])))}


def subjects(session, words: Any, stage_names: dict[str, str], codes: Iterable[str]) -> dict[str, str]:  # noqa: ANN001
    """'application:7' → '申报 SG2018-007 · 企业名', 'stage:apply' → '阶段 · 申报', 'person:x' → '成员 · 名字'."""
    codes = sorted({c for c in codes if c})
    split = [(c, *c.split(":", 1)) if ":" in c else (c, c, "") for c in codes]
    apps = applications(session, [v for _, k, v in split if k == "application" and v.isdigit()])
    people = who(session, words, [v for _, k, v in split if k == "person"])
    out = {}
    for code, kind, value in split:
        label = words.subjects.get(kind, kind)
        if kind == "application" and value.isdigit() and int(value) in apps:
            out[code] = f"{label} {apps[int(value)]}"
        elif kind == "stage":
            out[code] = f"{label} · {stage_names.get(value, value)}"
        elif kind == "person":
            out[code] = f"{label} · {people.get(value, value)}"
        elif kind in ("report", "shortlist") and value in ("material", "site", "vote"):
            out[code] = f"{label} · " + {"material": "材料评审", "site": "现场考评", "vote": "投票候选"}[value]
        else:
            out[code] = f"{label} {value}".strip()
    return out


APP_KEYS = frozenset({"application_id", "replacement_id", "approved", "winners", "reserve", "candidates", "removed",
                      "admitted"})   # details whose numbers are application ids
_APP_REF = re.compile(r"^app-(\d+)$")      # how a tally names a candidate


def _value(words: Any, value: Any, apps: dict[int, str], people: dict[str, str], *, app_ids: bool = False) -> str:
    if isinstance(value, bool):
        return words.yes if value else words.no
    if isinstance(value, int) and app_ids:
        return apps.get(value, str(value))
    if isinstance(value, (list, tuple)):
        return "、".join(_value(words, v, apps, people, app_ids=app_ids) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{_key(words, k, apps)}：{_value(words, v, apps, people, app_ids=app_ids)}"
                        for k, v in value.items())
    if isinstance(value, str):
        ref = _APP_REF.match(value)
        return apps.get(int(ref.group(1)), value) if ref else people.get(value, value)
    return str(value)


def _key(words: Any, key: str, apps: dict[int, str]) -> str:
    ref = _APP_REF.match(key)
    return apps.get(int(ref.group(1)), key) if ref else words.details.get(key, key)


def _ids(value: Any, keyed: bool) -> list[int]:
    """Application ids inside a details value: numbers under an application key, 'app-N' anywhere."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value] if keyed else []
    if isinstance(value, str):
        ref = _APP_REF.match(value)
        return [int(ref.group(1))] if ref else []
    if isinstance(value, dict):
        return [i for k, v in value.items() for i in _ids(k, False) + _ids(v, keyed)]
    if isinstance(value, (list, tuple)):
        return [i for v in value for i in _ids(v, keyed)]
    return []


def details(session, words: Any, entries: list[dict[str, Any]]) -> list[list[tuple[str, str]]]:  # noqa: ANN001
    """Each entry's details as (label, text), leaving out what is empty (no `reason=None`) and the hashes (the
    raw view has them); applications by number and people by name; a long value cut."""
    short = {i: label.split(" · ")[0] for i, label in applications(
        session, [i for e in entries for k, v in e.items() for i in _ids(v, k in APP_KEYS)]).items()}
    people = who(session, words, [v for e in entries for v in _strings(e)])
    hidden = set(words.details_hidden)
    out = []
    for e in entries:
        rows = []
        for k, v in sorted(e.items()):
            if v is None or v == "" or v == [] or v == {} or k in hidden:
                continue
            text = _value(words, v, short, people, app_ids=k in APP_KEYS)
            rows.append((words.details.get(k, k), text if len(text) <= DETAIL_MAX else text[:DETAIL_MAX] + "…"))
        out.append(rows)
    return out


def _strings(value: Any) -> list[str]:
    """Every short string inside a details value (userids among them), for one roster query."""
    if isinstance(value, str):
        return [value] if len(value) <= 64 else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def raw(details_: dict[str, Any]) -> str:
    """The stored details as compact JSON (the raw view)."""
    return json.dumps(details_, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def clerk_date(value: dt.datetime | None, tz) -> dt.datetime | None:  # noqa: ANN001
    """A stored UTC time as the local wall-clock time a spreadsheet cell holds (no zone: Excel has none)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(tz).replace(tzinfo=None)


def clerk_day(value) -> str:  # noqa: ANN001
    """A day (a date or 'YYYY-MM-DD') as a clerk writes it: '2019年3月5日'."""
    if not value:
        return ""
    y, m, d = str(value)[:10].split("-")
    return f"{y}年{int(m)}月{int(d)}日"


def clerk_time(text: str) -> str:
    """'2019-03-10 10:00' (already local) as a clerk writes it: '2019年3月10日 10:00'."""
    if not text:
        return ""
    day, _, clock = text.partition(" ")
    return f"{clerk_day(day)} {clock}".strip()
