"""23.2: the province's pool is a list of experts, not of WeCom members — a pool file without userids, a draw
reproducible on the file alone, drawn experts "not yet reachable" until enrolled, then asked for the pledge."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.workflows.scoringdata import T_MATERIAL, add_application, add_roster
from workflows.core.errors import AlreadyDone, NotAllowed, NotFound
from workflows.core.models import AuditEntry, CardTask, OutboxMessage, Person
from workflows.scoring import draw, enrol

NOW = T_MATERIAL
SEED = "2018-11-20 双色球 03 08 15"
# The province's list: no userid column at all. 专家一 is on the roster (same name and organisation).
ROWS = [("专家一", "广东省质量协会", "广州市"), ("李明", "广州质量研究院", "广州市"), ("王芳", "深圳标准院", "深圳市"),
        ("赵强", "佛山质量协会", "佛山市"), ("陈静", "东莞质量协会", "东莞市"), ("刘洋", "珠海质量协会", "珠海市")]
POOL = "name,organisation,region,specialty,contact\n" + "".join(
    f"{n},{o},{r},卓越绩效,1380000000{i}\n" for i, (n, o, r) in enumerate(ROWS))
KEYS = [f"{n}|{o}" for n, o, _ in ROWS]


@pytest.fixture
def world(sessions, settings):
    with sessions.begin() as s:
        add_roster(s, NOW)
        add_application(s, settings, 1, name="企业一")
    return sessions


def _drawn(s, settings, count=3):
    draw.import_pool(s, settings, actor="mishu", now=NOW, text=POOL)
    return draw.draw(s, settings, actor="mishu", now=NOW, count=count, seed=SEED)


def test_a_pool_without_userids_is_imported_and_drawn_reproducibly_from_the_file_alone(world, settings):
    with world.begin() as s:
        entries = draw.import_pool(s, settings, actor="mishu", now=NOW, text=POOL)
        assert [e.userid for e in entries] == [None] * 6 and sorted(e.draw_key for e in entries) == sorted(KEYS)
        row = draw.draw(s, settings, actor="mishu", now=NOW, count=3, seed=SEED)
        assert row.order == draw.rank(SEED, KEYS) and row.excluded == []     # HMAC of 姓名|单位, nothing else
        assert draw.verify(s, settings, SEED).matches


def test_drawn_experts_not_yet_members_are_listed_with_their_contact_and_see_nothing(world, settings):
    with world.begin() as s:
        row = _drawn(s, settings)
        panel = {m["key"]: m for m in draw.panel(s, settings).members}
        for key in row.order[:3]:
            m = panel[key]
            if key == "专家一|广东省质量协会":       # on the roster under the same name and organisation: asked
                assert (m["userid"], m["status"]) == ("e1", "asked")
            else:
                assert (m["userid"], m["status"]) == ("", "unreachable") and m["contact"].startswith("138")
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "draw.unreachable")).one()
        unreachable = [k for k in row.order[:3] if k != "专家一|广东省质量协会"]
        assert [e["key"] for e in told.data["experts"]] == unreachable
        assert all(e["contact"] for e in told.data["experts"])
        assert draw.shortfall(s, settings) == 0            # drawn, not yet reachable: still holds his place
        with pytest.raises(NotAllowed) as exc:             # a roster expert who was not drawn sees nothing
            draw.require_pledged(s, settings, "e2")
        assert exc.value.code == "not_drawn"


def test_the_secretariat_enrols_a_drawn_expert_who_is_then_asked_for_the_pledge(world, settings):
    with world.begin() as s:
        row = _drawn(s, settings)
        key = next(k for k in row.order[:3] if k != "专家一|广东省质量协会")
        name = key.split("|")[0]
        with pytest.raises(NotAllowed):
            enrol.enrol(s, settings, actor="e1", now=NOW, who=name, userid="e2")     # experts do not enrol
        with pytest.raises(NotFound) as exc:
            enrol.enrol(s, settings, actor="mishu", now=NOW, who="无此人", userid="e2")
        assert exc.value.code == "enrol_unknown"
        with pytest.raises(NotFound):
            enrol.enrol(s, settings, actor="mishu", now=NOW, who=name, userid="mishu")  # not an expert
        if "专家一|广东省质量协会" in row.order[:3]:
            with pytest.raises(AlreadyDone):
                enrol.enrol(s, settings, actor="mishu", now=NOW, who=name, userid="e1")  # already on the panel
        s.add(Person(userid="new1", name=name, role="expert", organization="别处", region="", updated_at=NOW))
        s.flush()
        member = enrol.enrol(s, settings, actor="mishu", now=NOW, who=name, userid="new1")
        assert (member.userid, member.status) == ("new1", "asked")
        assert s.scalars(select(CardTask).where(CardTask.kind == "draw.pledge", CardTask.recipient == "new1")).one()
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "draw.enrol")).one()
        assert entry.details == {"key": key, "userid": "new1", "how": "by hand", "status": "unreachable"}
        draw.accept_pledge(s, settings, actor="new1", now=NOW, member_id=member.id)
        draw.require_pledged(s, settings, "new1")
        assert draw.verify(s, settings, SEED).matches      # enrolment changes nothing the draw ranked


def test_a_roster_import_links_the_drawn_experts_it_names_and_a_reserve_called_up_is_asked(world, settings):
    with world.begin() as s:
        row = _drawn(s, settings, count=2)
        for n, o, _ in ROWS:
            if f"{n}|{o}" in row.order[:4] and n != "专家一":
                s.add(Person(userid=f"u-{n}", name=n, role="expert", organization=o, region="", updated_at=NOW))
        s.flush()
        linked = enrol.link_roster(s, settings, actor="cli", now=NOW)
        assert {m.draw_key for m in linked} == {k for k in row.order[:4] if not k.startswith("专家一")}
        statuses = {m.draw_key: m.status for m in draw.members(s, settings)}
        assert [statuses[k] for k in row.order[:2]] == ["asked", "asked"]
        assert [statuses[k] for k in row.order[2:4]] == ["waiting", "waiting"]   # reserves linked, not yet asked
        first = draw.members(s, settings)[0]
        nxt = draw.decline(s, settings, actor=first.userid, now=NOW, member_id=first.id)
        assert nxt.status == "asked" and nxt.userid is not None
