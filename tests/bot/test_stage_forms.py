"""Opening and closing a stage from the workbench (issue 24.1): only what the verb would allow is offered; the
first POST shows what follows (warnings, who will be told) and changes nothing; the confirmation does it; a
refusal (the seed's order) is said in chat's words and changes nothing."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from tests.bot.admin_helpers import csrf, sign_in
from tests.workflows.publicity_fixtures import START, committee_result, make_apps, make_roster
from workflows import publicity
from workflows.core import stages
from workflows.core.models import AuditEntry, OutboxMessage, Person

AFTER = START + dt.timedelta(days=11)


def _noticed(rt, clock):
    clock.set(START)
    with rt.sessions.begin() as s:
        ids = make_apps(s, rt.settings)
        make_roster(s)
        s.add(Person(userid="mishu", name="秘书·李敏", role="secretariat", updated_at=START))
        for key in ("plan", "committee_meeting", "call", "training", "apply", "review", "material", "site"):
            stages.close_stage(s, rt.settings, key, actor="cli", now=START)
        committee_result(s, rt.settings, ids[:3], ids[3:])
        publicity.start_publicity(s, rt.settings, actor="mishu1", now=START)
    return ids


def _counts(rt):
    with rt.sessions() as s:
        return (s.scalar(select(func.count()).select_from(AuditEntry)),
                s.scalar(select(func.count()).select_from(OutboxMessage)))


def test_only_allowed_actions_are_offered_and_each_is_asked_first(rt, http, wecom, clock):
    _noticed(rt, clock)
    sign_in(http, wecom, "mishu")
    page = http.get("/admin/edition").get_data(as_text=True)
    assert 'id="stage-open-award"' not in page            # the award only after the city's approval
    assert 'id="stage-close-publicity"' not in page       # the notice runs: it cannot be closed
    assert 'id="stage-open-vote"' not in page              # no vote before the committee's 议事规则 are recorded
    assert 'id="stage-open-site"' in page                  # reopening an earlier stage is allowed, with a warning
    before = _counts(rt)
    ask = http.post("/admin/stages/site/open", data={"csrf": csrf(http.get("/admin/edition").data)})
    html = ask.get_data(as_text=True)
    assert ask.status_code == 200 and "确认开启阶段" in html and "请注意" in html
    assert _counts(rt) == before                           # the check was rolled back
    done = http.post("/admin/stages/site/open", data={"csrf": csrf(ask.data), "confirmed": "1"})
    assert done.status_code == 303 and "done=opened" in done.headers["Location"]
    with rt.sessions() as s:
        assert stages.status(s, rt.settings, "site") == "open"
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "stage.open")).all()[-1].actor == "mishu"
    assert "已开启阶段" in http.get(done.headers["Location"]).get_data(as_text=True)


def test_a_refused_action_says_why_and_changes_nothing(rt, http, wecom, clock):
    _noticed(rt, clock)
    sign_in(http, wecom, "mishu")
    token = csrf(http.get("/admin/edition").data)
    before = _counts(rt)
    for confirmed in ("", "1"):                            # a forged or stale form is refused the same way
        r = http.post("/admin/stages/award/open", data={"csrf": token, "confirmed": confirmed})
        assert r.status_code == 409 and "没有任何改变" in r.get_data(as_text=True)
    assert _counts(rt) == before
    with rt.sessions() as s:
        assert stages.status(s, rt.settings, "award") == "pending"
    assert http.post("/admin/stages/nosuch/open", data={"csrf": token}).status_code == 404
    assert http.post("/admin/stages/vote/explode", data={"csrf": token}).status_code == 404
    assert http.post("/admin/stages/vote/open", data={"csrf": "forged", "confirmed": "1"}).status_code == 403


def test_an_expert_is_offered_nothing(rt, http, wecom, clock):
    _noticed(rt, clock)
    with rt.sessions.begin() as s:
        s.add(Person(userid="zhuanjia9", name="专家九", role="expert", organization="某大学", updated_at=START))
    sign_in(http, wecom, "zhuanjia9")
    assert http.post("/admin/stages/vote/open", data={"csrf": "x"}).status_code == 403
