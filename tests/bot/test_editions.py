"""Two editions in one database: everything one edition shows, ranks, reminds, lists and archives is its own.

The sample edition runs twice in one database, under two edition keys with the same configuration
(same prefixes, so both have an SG2018-001).  Identical inputs must give identical results, and the
first edition's results must not change when the second one runs.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from bot import sample
from workflows import apply, archive, publicity, scoring, voting
from workflows.apply.models import Application
from workflows.core import reminders
from workflows.core.settings import Settings
from workflows.edition import PROVIDERS
from workflows.review import queries as review_queries
from workflows.scoring import report, results
from workflows.tables import SHARED_TABLES

from .conftest import deliver, texts

SH = dt.timezone(dt.timedelta(hours=8))


def pilot(settings: Settings) -> Settings:
    """Another edition in the same database: same configuration, another key."""
    return settings.with_overrides(award={"edition_key": "shaoguan-pilot", "edition_name": "试点届"})


def fingerprint(s, settings: Settings, out: Path) -> dict:
    """What an edition shows, by application number (an id of another edition raises KeyError)."""
    key = settings.award.edition_key
    apps = {a.id: a.number for a in s.scalars(select(Application).where(Application.edition == key))}
    fp: dict = {"applications": sorted(apps.values())}
    for phase in ("material", "site"):
        st = scoring.standing(s, settings, phase)
        fp[phase] = {
            "scores": sorted((apps[a], results.fmt(v)) for a, v in st.scores.items()),
            "assignments": sorted((apps[a], tuple(e)) for a, e in scoring.assignments(s, settings, phase).items()),
            "sheets": len(scoring.confirmed_sheets(s, settings, phase)),
            "report": [(r["number"], r["score"]) for r in report.report_data(s, settings, phase)["ranking"]],
        }
    fp["shortlists"] = {k: [apps[r.application_id] for r in scoring.shortlist(s, settings, k)] for k in ("site", "vote")}
    fp["final_top"] = [(a.number, results.fmt(c)) for a, c, _, _ in scoring.final_top(s, settings)]
    fp["vote_candidates"] = [apps[c.application_id] for c in voting.final_candidates(s, settings)]
    fp["proposed_winners"] = [apps[i] for i in voting.proposed_winners(s, settings)]
    fp["complaints"] = [(c.number, apps[c.application_id]) for c in publicity.listing(s, settings)]
    fp["awards"] = sorted(apps[r.application_id] for r in publicity.records(s, settings))
    fp["pending_reviews"] = [p.number for p in review_queries.pending_for_secretariat(s, settings)]
    fp["current_documents"] = {apps[a.id]: sorted(apply.current_documents(a)) for a in
                               s.scalars(select(Application).where(Application.edition == key))}
    manifest = archive.export(s, settings, actor="cli", now=dt.datetime(2019, 5, 1, tzinfo=SH), out=out)
    fp["archive"] = {t: n for t, n in manifest["tables"].items() if t not in SHARED_TABLES}
    fp["archived_documents"] = sorted((d["number"], d["item"]) for d in manifest["current_documents"])
    return fp


def drafts_of_a_third_edition(s, now: dt.datetime, n: int = 9) -> None:
    """Unfinished applications of yet another edition.  They also make both sample editions' application ids
    two-digit (10–17, 18–25): expert assignment breaks ties by id as text, so identical inputs include ids
    that sort alike."""
    for i in range(n):
        s.add(Application(edition="shaoguan-scratch", applicant=f"caogao{i}", created_at=now, updated_at=now))
    s.flush()


def test_two_editions_in_one_database_do_not_see_each_other(rt, clock, tmp_path):
    first, second = pilot(rt.settings), rt.settings
    with rt.sessions.begin() as s:
        drafts_of_a_third_edition(s, clock())
        assert sample.run(s, first, "award", clock())[-1] == "award"
        before = fingerprint(s, first, tmp_path / "first-before.zip")
    with rt.sessions.begin() as s:
        assert sample.run(s, second, "award", clock())[-1] == "award"
    with rt.sessions.begin() as s:
        after = fingerprint(s, first, tmp_path / "first-after.zip")
        mine = fingerprint(s, second, tmp_path / "second.zip")
        both = s.scalars(select(Application.edition).where(Application.number == "SG2018-001")).all()
    assert sorted(both) == sorted([first.award.edition_key, second.award.edition_key])
    assert before["material"]["sheets"] == 40 and len(before["proposed_winners"]) == 3  # the sample really ran
    assert before["archive"]["score_sheet"] == before["material"]["sheets"] + before["site"]["sheets"]
    assert after == before    # the second edition changed nothing the first one shows
    assert mine == before     # and saw nothing of it: the same inputs give the same results


def test_reminders_and_obligations_are_per_edition(rt, clock):
    first, second = pilot(rt.settings), rt.settings
    with rt.sessions.begin() as s:
        drafts_of_a_third_edition(s, clock())
        sample.run(s, first, "material", clock())
        sample.run(s, second, "material", clock())
    now = dt.datetime(2018, 12, 20, 10, 0, tzinfo=SH)  # the material review's last day, after the 1d reminder
    sent = {}
    with rt.sessions.begin() as s:
        for settings in (first, second):
            assigned = scoring.assignments(s, settings, "material")
            numbers = {a.id: a.number for a in s.scalars(select(Application).where(
                Application.edition == settings.award.edition_key))}
            owed: dict[str, list[str]] = {}
            for app_id, experts in assigned.items():
                for expert in experts:
                    owed.setdefault(expert, []).append(numbers[app_id])
            got = reminders.run_due(s, settings, now=now, providers=PROVIDERS)
            sent[settings.award.edition_key] = {p.obligation.recipient: sorted(
                a["number"] for a in p.obligation.data["applications"]) for p in got}
            assert sent[settings.award.edition_key] == {u: sorted(n) for u, n in owed.items()}
    # Both editions' experts are reminded, each of his own edition's applications, although the two
    # deadlines (and so the reminder keys) are the same.
    assert sent[first.award.edition_key] == sent[second.award.edition_key] != {}


def test_an_expert_reads_his_own_editions_documents_through_the_chat(cb, rt, wecom, clock):
    first, second = pilot(rt.settings), rt.settings
    with rt.sessions.begin() as s:
        drafts_of_a_third_edition(s, clock())
        sample.run(s, first, "material", clock())
        sample.run(s, second, "material", clock())
    with rt.sessions() as s:
        expert, [number, *_] = next((e, sorted(n for n in nums)) for e, nums in _by_expert(s, second).items())
        app = apply.by_number(s, second, number)
        current = len(apply.current_documents(app))
    deliver(rt)
    cb.send(cb.text(expert, f"查阅 {number}"))
    deliver(rt)
    files = [m for m in wecom.messages_to(expert) if m.get("msgtype") == "file"]
    assert current > 0 and len(files) == current
    assert f"{number}" in texts(wecom, expert)[-1]


def _by_expert(s, settings: Settings) -> dict[str, list[str]]:
    numbers = {a.id: a.number for a in s.scalars(select(Application).where(
        Application.edition == settings.award.edition_key))}
    out: dict[str, list[str]] = {}
    for app_id, experts in scoring.assignments(s, settings, "material").items():
        for e in experts:
            out.setdefault(e, []).append(numbers[app_id])
    return out
