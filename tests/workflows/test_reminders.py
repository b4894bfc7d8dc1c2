"""Reminders: who owes what by when, offsets, quiet hours, extensions, downtime, exactly once."""
from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from workflows.core import reminders, stages
from workflows.edition import PROVIDERS
from workflows.apply.models import AppStatus, Application, Document
from workflows.core.models import OutboxMessage, Person, ReminderSent

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc
DEADLINE = dt.datetime(2018, 11, 15, 23, 59, 59, tzinfo=SH)  # the first edition's application deadline


def local(*args: int) -> dt.datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return dt.datetime(*args, tzinfo=SH).astimezone(UTC)


# 7d/3d/1d before 23:59:59 fall in quiet hours and move to 08:30 the next morning; 2h is 21:59:59.
AT_7D, AT_3D, AT_1D, AT_2H = local(2018, 11, 9, 8, 30), local(2018, 11, 13, 8, 30), local(2018, 11, 15, 8, 30), \
    local(2018, 11, 15, 21, 59, 59)


def _app(s, userid: str, status: str, *, region: str | None = "440203", department: str | None = None,
         name: str | None = None, now: dt.datetime) -> Application:
    a = Application(edition="shaoguan-2018", applicant=userid, status=status, enterprise_name=name or f"{userid}公司",
                    region_code=region, department=department, created_at=now, updated_at=now,
                    submitted_at=now if status == AppStatus.SUBMITTED else None)
    s.add(a)
    s.flush()
    return a


def _doc(s, app: Application, key: str, *, status: str = "received", reason: str | None = None,
         now: dt.datetime) -> None:
    s.add(Document(edition=app.edition, application_id=app.id, item_key=key, sha256="0" * 64, size=10, kind="pdf",
                   original_name=f"{key}.pdf", source="upload", status=status, reason=reason,
                   uploaded_by=app.applicant, uploaded_at=now))


def _person(s, userid: str, role: str, *, org: str = "", region: str = "", now: dt.datetime) -> None:
    s.add(Person(userid=userid, name=userid, role=role, organization=org, region=region, active=True, updated_at=now))


ALL_APPLICANT_ITEMS = ("application_form", "self_assessment", "business_license", "certificates",
                       "financial_statements", "safety_declaration")


@pytest.fixture
def world(sessions, settings, clock):
    """Applicants in every state, and recommenders of two regions and one department."""
    now = clock()
    with sessions.begin() as s:
        stages.open_stage(s, settings, "apply", actor="system", now=now)
        _person(s, "rec-wj", "recommender", org="武江区人民政府", region="武江区", now=now)
        _person(s, "rec-qj", "recommender", org="曲江区人民政府", region="曲江区", now=now)
        _person(s, "rec-gx", "recommender", org="市经济和信息化局", region="市直", now=now)
        _person(s, "rec-old", "recommender", org="", region="武江区", now=now)
        s.get(Person, "rec-old").active = False
        _person(s, "expert1", "expert", org="武江区人民政府", region="武江区", now=now)
        draft = _app(s, "draft", AppStatus.DRAFT, now=now)
        _doc(s, draft, "application_form", now=now)
        _doc(s, draft, "self_assessment", now=now)
        _doc(s, draft, "business_license", status="rejected", reason="营业执照照片不清晰", now=now)
        full = _app(s, "full", AppStatus.DRAFT, now=now)
        for key in ALL_APPLICANT_ITEMS:
            _doc(s, full, key, now=now)
        _app(s, "returned", AppStatus.RETURNED, now=now)
        _app(s, "sub-wj", AppStatus.SUBMITTED, region="440203", now=now)
        _app(s, "sub-gx", AppStatus.SUBMITTED, region=None, department="市经济和信息化局", now=now)
        for i, st in enumerate([AppStatus.RECOMMENDED, AppStatus.NOT_RECOMMENDED, AppStatus.INELIGIBLE,
                                AppStatus.ACCEPTED, AppStatus.REJECTED, AppStatus.SUPPLEMENT]):
            _app(s, f"done{i}", st, now=now)
    return sessions


def sweep(sessions, settings, now, **kw):
    kw.setdefault("providers", PROVIDERS)
    with sessions.begin() as s:
        return reminders.run_due(s, settings, now=now, **kw)


def outbox(sessions) -> list[OutboxMessage]:
    with sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_schedule_moves_quiet_hours_to_half_past_eight(settings):
    assert reminders.schedule(settings, DEADLINE.astimezone(UTC)) == [
        ("7d", AT_7D), ("3d", AT_3D), ("1d", AT_1D), ("2h", AT_2H)]


def test_a_reminder_pushed_past_the_deadline_by_quiet_hours_is_dropped(settings):
    early = dt.datetime(2018, 11, 15, 8, 15, tzinfo=SH)  # 2h before is 06:15 → 08:30, after the deadline
    labels = [label for label, _ in reminders.schedule(settings, early)]
    assert labels == ["7d", "3d", "1d"]


def test_nothing_is_due_before_the_first_offset(world, settings, clock):
    assert sweep(world, settings, clock()) == []
    assert sweep(world, settings, AT_7D - dt.timedelta(seconds=1)) == []
    assert outbox(world) == []


def test_exactly_those_who_owe_something_are_reminded(world, settings):
    sent = sweep(world, settings, AT_7D)
    got = {(p.obligation.recipient, p.obligation.kind, p.offset) for p in sent}
    assert got == {("draft", "remind.apply", "7d"), ("full", "remind.apply", "7d"),
                   ("returned", "remind.apply", "7d"),
                   ("rec-wj", "remind.recommend", "7d"), ("rec-gx", "remind.recommend", "7d")}
    rows = {r.recipient: r for r in outbox(world)}
    assert set(rows) == {"draft", "full", "returned", "rec-wj", "rec-gx"}
    draft = rows["draft"].data
    assert [m["key"] for m in draft["missing"]] == ["business_license", "certificates", "financial_statements",
                                                   "safety_declaration"]
    assert draft["missing"][0]["reason"] == "营业执照照片不清晰"
    assert draft["deadline"] == "2018-11-15T15:59:59+00:00" and draft["hours_left"] == 159  # 6 days 15½ hours
    assert rows["full"].data["missing"] == [] and rows["returned"].data["returned"] is True
    assert [a["enterprise_name"] for a in rows["rec-wj"].data["applications"]] == ["sub-wj公司"]
    assert [a["enterprise_name"] for a in rows["rec-gx"].data["applications"]] == ["sub-gx公司"]


def test_each_reminder_goes_out_once(world, settings):
    first = sweep(world, settings, AT_7D)
    assert len(first) == 5
    assert sweep(world, settings, AT_7D) == []
    assert sweep(world, settings, AT_7D + dt.timedelta(hours=5)) == []
    assert len(outbox(world)) == 5
    with world() as s:
        assert s.scalar(select(func.count()).select_from(ReminderSent)) == 5


def test_every_offset_in_turn_then_nothing_after_the_deadline(world, settings):
    offsets = []
    for at in (AT_7D, AT_3D, AT_1D, AT_2H):
        offsets.append({p.offset for p in sweep(world, settings, at)})
    assert offsets == [{"7d"}, {"3d"}, {"1d"}, {"2h"}]
    assert sweep(world, settings, DEADLINE.astimezone(UTC) + dt.timedelta(seconds=1)) == []


def test_quiet_hours_hold_catch_ups_until_the_morning(world, settings):
    late = local(2018, 11, 12, 23, 30)  # the 3d point (23:59:59) is inside quiet hours
    assert sweep(world, settings, late) == []
    assert sweep(world, settings, local(2018, 11, 13, 7, 59)) == []
    # Downtime until after 22:00 on the 9th: the 7d reminder waits for 08:30 on the 10th, not sent at night.
    assert sweep(world, settings, local(2018, 11, 9, 22, 30)) == []
    morning = sweep(world, settings, local(2018, 11, 10, 8, 0))
    assert {p.offset for p in morning} == {"7d"}


def test_after_downtime_only_the_most_recent_missed_offset_is_sent(world, settings):
    sent = sweep(world, settings, local(2018, 11, 15, 9, 0))  # down since before the 7d point
    assert {p.offset for p in sent} == {"1d"} and len(sent) == 5
    assert sweep(world, settings, local(2018, 11, 15, 10, 0)) == []
    assert {p.offset for p in sweep(world, settings, AT_2H)} == {"2h"}
    with world() as s:
        assert set(s.scalars(select(ReminderSent.offset))) == {"1d", "2h"}


def test_an_extension_gives_new_reminders_and_old_ones_are_not_repeated(world, settings):
    sweep(world, settings, AT_7D)
    with world.begin() as s:
        draft = s.scalar(select(Application).where(Application.applicant == "draft"))
        stages.extend(s, settings, "apply", dt.datetime(2018, 11, 22, 23, 59, 59, tzinfo=SH), actor="system",
                      now=AT_7D, subject=f"application:{draft.id}", reason="材料补寄")
    # The others get their 3d reminder; the extended applicant has nothing due until 7 days before the new date.
    sent = sweep(world, settings, AT_3D)
    assert "draft" not in {p.obligation.recipient for p in sent} and len(sent) == 4
    assert len(sweep(world, settings, AT_2H)) == 4  # the others' 2h; the extended one has nothing due
    new = sweep(world, settings, local(2018, 11, 16, 8, 30))
    assert [(p.obligation.recipient, p.offset, p.obligation.deadline_key) for p in new] == [
        ("draft", "7d", "apply:2018-11-22T15:59:59Z")]
    assert sweep(world, settings, local(2018, 11, 16, 9, 0)) == []


def test_a_stage_wide_extension_restarts_the_offsets_for_everyone(world, settings):
    sweep(world, settings, AT_1D)
    with world.begin() as s:
        stages.extend(s, settings, "apply", dt.datetime(2018, 11, 20, 23, 59, 59, tzinfo=SH), actor="system",
                      now=AT_1D)
    # The new deadline's 7d point has passed already: the most recent one goes out at once, naming the new date.
    at_once = sweep(world, settings, AT_1D + dt.timedelta(minutes=1))
    assert {(p.offset, p.obligation.deadline_key.split(":", 1)[1]) for p in at_once} == {("7d", "2018-11-20T15:59:59Z")}
    assert len(at_once) == 5
    assert sweep(world, settings, AT_1D + dt.timedelta(hours=1)) == []
    sent = sweep(world, settings, local(2018, 11, 18, 9, 0))  # 3d before the new deadline, after quiet hours
    assert {(p.offset, p.obligation.deadline_key.split(":", 1)[1]) for p in sent} == {("3d", "2018-11-20T15:59:59Z")}
    assert len(sent) == 5


def test_someone_who_finishes_is_no_longer_reminded(world, settings):
    sweep(world, settings, AT_7D)
    with world.begin() as s:
        for a in s.scalars(select(Application).where(Application.applicant.in_(["draft", "full", "returned"]))):
            a.status = AppStatus.INELIGIBLE if a.applicant == "returned" else AppStatus.SUBMITTED
        s.scalar(select(Application).where(Application.applicant == "sub-gx")).status = AppStatus.RECOMMENDED
    sent = sweep(world, settings, AT_3D)
    got = {p.obligation.recipient: p.obligation.data for p in sent}
    assert set(got) == {"rec-wj"}  # draft and full are in 武江区 too; 市工信局 has given its opinion
    assert sorted(a["enterprise_name"] for a in got["rec-wj"]["applications"]) == ["draft公司", "full公司",
                                                                                   "sub-wj公司"]


def test_a_closed_stage_reminds_nobody(world, settings):
    with world.begin() as s:
        stages.close_stage(s, settings, "apply", actor="system", now=AT_7D)
    assert sweep(world, settings, AT_7D) == []


def test_dry_run_changes_nothing(world, settings):
    planned = sweep(world, settings, AT_7D, dry_run=True)
    assert len(planned) == 5
    assert outbox(world) == []
    assert len(sweep(world, settings, AT_7D)) == 5


def test_a_sweep_that_loses_the_race_sends_nothing(world, settings, monkeypatch):
    sweep(world, settings, AT_7D)
    # As if another sweep's claims were not visible when this one planned: the unique key still holds.
    monkeypatch.setattr(reminders, "_already_sent", lambda session, edition, keys: set())
    assert len(sweep(world, settings, AT_7D, dry_run=True)) == 5
    assert sweep(world, settings, AT_7D) == []
    assert len(outbox(world)) == 5


def test_concurrent_sweeps_send_each_reminder_once(world, settings):
    results: list[int] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        results.append(len(sweep(world, settings, AT_7D)))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 0, 0, 5]
    assert len(outbox(world)) == 5


def test_the_sweep_asks_exactly_the_providers_it_is_given(world, settings):
    def committee(session, _settings):
        deadline = stages.deadline(session, _settings, "vote")
        yield reminders.Obligation("weiyuan1", "vote", reminders.deadline_key("vote", deadline, 1), deadline,
                                   "remind.apply", {"missing": [], "returned": False, "enterprise_name": "",
                                                    "number": ""})

    with world.begin() as s:
        stages.open_stage(s, settings, "vote", actor="system", now=local(2019, 1, 20, 9, 0))
    sent = sweep(world, settings, local(2019, 1, 30, 8, 30), providers={"vote": (committee,)})
    assert [(p.obligation.recipient, p.offset, p.obligation.deadline_key) for p in sent] == [
        ("weiyuan1", "1d", "vote:1:2019-01-30T15:59:59Z")]


def test_every_stage_with_people_who_owe_is_wired():
    assert set(PROVIDERS) == {"training", "apply", "review", "material", "site", "vote", reminders.ANY_STAGE}
    assert all(PROVIDERS.values())


def test_a_daily_obligation_is_due_once_each_calendar_day_out_of_quiet_hours_until_the_deadline(settings):
    """`Obligation.daily_since`: not the day it started, then one `day:` offset per day from 08:30, none after."""
    since = local(2018, 11, 10, 15, 0)
    ob = reminders.Obligation(recipient="mishu", stage="apply", deadline_key="unattended:x", deadline=DEADLINE,
                              kind="remind.unattended", daily_since=since)
    assert reminders.due_offset(settings, ob, local(2018, 11, 10, 21, 0)) is None          # the day itself
    assert reminders.due_offset(settings, ob, local(2018, 11, 11, 7, 0)) is None           # quiet: waits for 08:30
    assert reminders.due_offset(settings, ob, local(2018, 11, 11, 8, 31)) == ("day:2018-11-11", local(2018, 11, 11, 8, 30))
    assert reminders.due_offset(settings, ob, local(2018, 11, 11, 21, 0))[0] == "day:2018-11-11"   # same key all day
    assert reminders.due_offset(settings, ob, local(2018, 11, 12, 9, 0))[0] == "day:2018-11-12"
    assert reminders.due_offset(settings, ob, local(2018, 11, 16, 9, 0)) is None            # after the deadline


# -- those who run the award (issue 23.15) ---------------------------------------------------------------------

MEETING_7D = local(2018, 9, 9, 8, 30)     # 7 days before 2018-09-15 23:59:59, out of quiet hours


def test_the_secretariat_is_reminded_of_its_own_milestones_once_per_offset(sessions, settings, clock):
    from workflows import committee
    now = clock()
    with sessions.begin() as s:
        _person(s, "mishu", "secretariat", now=now)
    first = sweep(sessions, settings, MEETING_7D)
    assert {(p.obligation.recipient, p.obligation.kind, p.obligation.data["what"], p.offset) for p in first} == {
        ("mishu", "remind.milestone", "committee_meeting", "7d")}       # the meeting; nothing else is due yet
    assert sweep(sessions, settings, MEETING_7D) == []                  # exactly once
    # Done is done: once the meeting is recorded, its next offset (3d) sends nothing.
    with sessions.begin() as s:
        committee.record_meeting(s, settings, actor="mishu", now=local(2018, 9, 12, 9, 0),
                                 held_on=dt.date(2018, 9, 12), attendees=["吴海"], decisions="通过议事规则")
    assert sweep(sessions, settings, local(2018, 9, 13, 8, 30)) == []
    # The call and the training (2018-09-30) are due 7 days before, once each.
    later = {(p.obligation.data["what"], p.offset) for p in sweep(sessions, settings, local(2018, 9, 24, 8, 30))}
    assert later == {("publish_call", "7d"), ("training", "7d")}
    assert sweep(sessions, settings, local(2018, 9, 24, 9, 30)) == []
    with sessions() as s:
        kinds = [(m.recipient, m.kind, m.data["what"]) for m in s.scalars(select(OutboxMessage))]
    assert kinds == [("mishu", "remind.milestone", "committee_meeting"), ("mishu", "remind.milestone", "publish_call"),
                     ("mishu", "remind.milestone", "training")]


def test_a_closed_stage_and_a_recorded_approval_owe_nothing(sessions, settings, clock):
    now = clock()
    with sessions.begin() as s:
        _person(s, "mishu", "secretariat", now=now)
        stages.open_stage(s, settings, "committee_meeting", actor="mishu", now=now)
        stages.close_stage(s, settings, "committee_meeting", actor="mishu", now=now)
    assert sweep(sessions, settings, MEETING_7D) == []
