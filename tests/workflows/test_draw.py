"""The expert draw: pool import (all or nothing), reproducible HMAC draw with exclusions, verify, pledges,
reserves and the one leader."""
from __future__ import annotations

import hashlib
import hmac

import pytest
from sqlalchemy import select

from tests.workflows.scoringdata import T_MATERIAL, add_application, add_roster, open_phase
from workflows.core import audit
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from workflows.core.models import AuditEntry, CardTask, OutboxMessage, Person
from workflows.scoring import draw, experts, leader
from workflows.scoring.draw_models import PoolEntry

NOW = T_MATERIAL
HEADER = "name,organisation,region,specialty,contact,userid,conflict\n"
POOL = HEADER + "".join(f"{name},{org},{region},卓越绩效,0751-8800000{i},{uid},\n" for i, (uid, name, _, org, region)
                        in enumerate([("zuzhang", "组长·周立平", "", "中国质量协会", "北京市"),
                                      ("e1", "专家一", "", "广东省质量协会", "广州市"),
                                      ("e2", "专家二", "", "华南理工大学", "广州市"),
                                      ("e3", "专家三", "", "深圳市标准技术研究院", "深圳市"),
                                      ("e4", "专家四", "", "佛山市质量研究院", "佛山市"),
                                      ("e5", "专家五", "", "韶关学院", "浈江区"),
                                      ("e6", "专家六", "", "韶钢集团", "曲江区")]))


@pytest.fixture
def world(sessions, settings):
    with sessions.begin() as s:
        add_roster(s, NOW)
        add_application(s, settings, 1, name="韶钢集团", region="440205")   # e6 works for an applicant
        add_application(s, settings, 2, name="企业二")
    return sessions


def _import(s, settings, text=POOL):
    return draw.import_pool(s, settings, actor="mishu", now=NOW, text=text)


def test_rank_is_hmac_sha256_of_each_key_under_the_seed_and_independent_of_input_order():
    keys = ["e1", "e2", "e3", "zuzhang", "CorpX/u9"]
    expected = sorted(keys, key=lambda k: hmac.new("2018-11-20 双色球 07 12 19".encode(), k.encode(),
                                                   hashlib.sha256).hexdigest())
    assert draw.rank("2018-11-20 双色球 07 12 19", keys) == expected
    assert draw.rank("2018-11-20 双色球 07 12 19", list(reversed(keys))) == expected
    assert draw.rank("another seed", keys) != expected or len(keys) < 3


def test_import_refuses_every_bad_line_by_number_and_imports_nothing(world, settings):
    bad = (HEADER + "专家一,广东省质量协会,广州市,卓越绩效,0751-1,e1,\n"
           ",无名单位,广州市,卓越绩效,0751-2,e2,\n"              # line 3: no name
           "专家三,深圳市标准技术研究院,深圳市,卓越绩效,,e3,\n"   # line 4: no contact
           "陌生人,某单位,广州市,卓越绩效,0751-4,nobody,\n"       # line 5: not on the roster
           "秘书,市局,市直,—,0751-5,mishu,\n"                    # line 6: on the roster, but not an expert
           "专家一,广东省质量协会,广州市,卓越绩效,0751-1,e1,\n")  # line 7: duplicate
    with world.begin() as s, pytest.raises(InvalidInput) as exc:
        _import(s, settings, bad)
    assert exc.value.code == "pool_invalid"
    assert [(p["line"], p["code"]) for p in exc.value.data["problems"]] == [
        (3, "pool_missing_name"), (4, "pool_missing_contact"), (5, "pool_not_expert"), (6, "pool_not_expert"),
        (7, "pool_duplicate")]
    with world() as s:
        assert s.scalars(select(PoolEntry)).all() == []
        with pytest.raises(InvalidInput) as exc:
            _import(s, settings, "name,organisation\n专家一,协会\n")
        assert exc.value.data["problems"][0]["code"] == "pool_bad_header"


def test_draw_excludes_conflicts_records_the_seed_and_asks_each_drawn_expert(world, settings):
    with world.begin() as s:
        experts.declare_conflict(s, settings, actor="e5", now=NOW, number="SG2018-002", reason="曾任顾问")
        _import(s, settings, POOL.replace("0751-88000002,e2,", "0751-88000002,e2,本人在企业二兼职"))
        row = draw.draw(s, settings, actor="mishu", now=NOW, count=2, seed="  2018-11-20 双色球  ")
        assert row.seed == "2018-11-20 双色球"
        assert {x["userid"]: x["reasons"] for x in row.excluded} == {
            "e2": ["declared_in_pool"], "e5": ["declared_conflict"], "e6": ["applicant_organization"]}
        assert row.order == draw.rank("2018-11-20 双色球", ["e1", "e3", "e4", "zuzhang"])
        panel = draw.members(s, settings)
        assert [(m.userid, m.kind, m.status) for m in panel] == [
            (row.order[0], "expert", "asked"), (row.order[1], "expert", "asked"),
            (row.order[2], "reserve", "waiting"), (row.order[3], "reserve", "waiting")]
        cards = s.scalars(select(CardTask).where(CardTask.kind == "draw.pledge")).all()
        assert sorted(c.recipient for c in cards) == sorted(row.order[:2])
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "draw.make")).one()
        assert entry.details["seed"] == "2018-11-20 双色球" and entry.details["pool_digest"] == row.pool_digest
        assert audit.verify(s).ok


def test_the_same_pool_and_seed_give_the_same_draw_and_verify_says_so(world, settings):
    with world.begin() as s:
        _import(s, settings)
        row = draw.draw(s, settings, actor="mishu", now=NOW, count=3, seed="S-42")
        order = list(row.order)
    with world() as s:
        ok = draw.verify(s, settings, "S-42")
        assert ok.matches and ok.experts == order[:3] and ok.reserves == order[3:5]
        wrong = draw.verify(s, settings, "S-43")
        assert not wrong.matches and wrong.pool_matches and not wrong.seed_matches
    with world.begin() as s:  # someone edits the pool behind the draw's back: verify notices
        s.scalars(select(PoolEntry).where(PoolEntry.userid == "e1")).one().organization = "别的单位"
    with world() as s:
        assert not draw.verify(s, settings, "S-42").pool_matches


def test_the_draw_is_refused_without_pool_twice_or_with_too_few_and_the_pool_is_locked_after(world, settings):
    with world.begin() as s:
        with pytest.raises(NotFound):
            draw.draw(s, settings, actor="mishu", now=NOW, count=3, seed="x")
        _import(s, settings)
        with pytest.raises(InvalidInput) as exc:
            draw.draw(s, settings, actor="mishu", now=NOW, count=7, seed="x")   # e6 is excluded: 6 eligible
        assert exc.value.code == "draw_not_enough" and exc.value.data["eligible"] == 6
        with pytest.raises(InvalidInput):
            draw.draw(s, settings, actor="mishu", now=NOW, count=3, seed="   ")
        with pytest.raises(NotAllowed):
            draw.draw(s, settings, actor="e1", now=NOW, count=3, seed="x")
        draw.draw(s, settings, actor="mishu", now=NOW, count=3, seed="x")
        with pytest.raises(AlreadyDone):
            draw.draw(s, settings, actor="mishu", now=NOW, count=3, seed="y")
        with pytest.raises(AlreadyDone) as exc:
            _import(s, settings)
        assert exc.value.code == "pool_locked"


def _drawn(world, settings, count=3, seed="S-42"):
    with world.begin() as s:
        _import(s, settings)
        row = draw.draw(s, settings, actor="mishu", now=NOW, count=count, seed=seed)
        return list(row.order), {m.userid: m.id for m in draw.members(s, settings)}


def test_no_material_and_no_assignment_before_the_pledge(world, settings):
    order, ids = _drawn(world, settings)
    first = order[0]
    with world.begin() as s:
        open_phase(s, settings, "material", NOW)
        with pytest.raises(NotAllowed) as exc:
            experts.require_assigned(s, settings, first, "SG2018-002", "material")
        assert exc.value.code == "pledge_required"
        with pytest.raises(NotAllowed) as exc:
            experts.require_assigned(s, settings, order[4], "SG2018-002", "material")  # a reserve not yet asked
        assert exc.value.code == "not_drawn"
        with pytest.raises(NotAllowed) as exc:
            experts.require_assigned(s, settings, "e6", "SG2018-002", "material")     # on the roster, not drawn
        assert exc.value.code == "not_drawn"
        assert experts.pool_members(s, settings) == []
        draw.accept_pledge(s, settings, actor=first, now=NOW, member_id=ids[first])
        assert [p.userid for p in experts.pool_members(s, settings)] == [first]
        with pytest.raises(NotFound) as exc:  # past the pledge: the usual "not assigned to you"
            experts.require_assigned(s, settings, first, "SG2018-002", "material")
        assert exc.value.code == "not_assigned"
        with pytest.raises(AlreadyDone):
            draw.accept_pledge(s, settings, actor=first, now=NOW, member_id=ids[first])
        with pytest.raises(NotFound):  # somebody else's pledge
            draw.accept_pledge(s, settings, actor=order[1], now=NOW, member_id=ids[first])


def test_a_decline_asks_the_next_reserve_and_tells_the_secretariat_until_none_is_left(world, settings):
    order, ids = _drawn(world, settings, count=3)
    with world.begin() as s:
        nxt = draw.decline(s, settings, actor=order[0], now=NOW, member_id=ids[order[0]], reason="出差")
        assert nxt.userid == order[3] and nxt.status == "asked"
        assert s.scalars(select(CardTask).where(CardTask.kind == "draw.pledge", CardTask.recipient == order[3])).one()
        nxt = draw.decline(s, settings, actor=order[3], now=NOW, member_id=ids[order[3]])
        assert nxt.userid == order[4]
        assert draw.decline(s, settings, actor=order[4], now=NOW, member_id=ids[order[4]]) is None
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "draw.declined",
                                                     OutboxMessage.recipient == "mishu")).all()
        assert [m.data["reserve"] != "" for m in told] == [True, True, False]
        assert told[0].data["reason"] == "出差"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "draw.pledge_decline")).first()
        assert entry.details["next_reserve"] == order[3]


def test_the_leader_is_engaged_apart_from_the_draw_recorded_audited_and_pledged(world, settings):
    """23.1: 聘请1名…专家任组长 — engaged by the secretariat (by userid or name), asked for the pledge, never drawn."""
    with world.begin() as s:
        with pytest.raises(NotAllowed):
            leader.engage(s, settings, actor="e1", now=NOW, who="zuzhang")              # experts do not engage
        with pytest.raises(NotFound) as exc:
            leader.engage(s, settings, actor="mishu", now=NOW, who="nobody")
        assert exc.value.code == "leader_unknown"
        person = leader.engage(s, settings, actor="mishu", now=NOW, who="组长·周立平", basis="韶质奖聘〔2018〕1号")
        assert person.userid == "zuzhang" and person.role == "expert_leader"
        member = draw.leader_member(s, settings)
        assert (member.kind, member.status, member.basis, member.engaged_by) == (
            "leader", "asked", "韶质奖聘〔2018〕1号", "mishu")
        assert s.scalars(select(CardTask).where(CardTask.kind == "draw.pledge", CardTask.recipient == "zuzhang")).one()
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "draw.leader")).one()
        assert entry.details["leader"] == "zuzhang" and entry.details["basis"] == "韶质奖聘〔2018〕1号"
        with pytest.raises(NotAllowed) as exc:   # no draw yet, but the engaged leader pledges first
            draw.require_pledged(s, settings, "zuzhang")
        assert exc.value.code == "pledge_required"
        with pytest.raises(AlreadyDone):
            leader.engage(s, settings, actor="mishu", now=NOW, who="zuzhang")
        _import(s, settings)
        row = draw.draw(s, settings, actor="mishu", now=NOW, count=3, seed="S-42")
        assert {x["userid"]: x["reasons"] for x in row.excluded}["zuzhang"] == ["engaged_leader"]
        assert "zuzhang" not in row.order
        assert s.get(Person, "zuzhang").role == "expert_leader"            # the draw never demotes him
        assert len([m for m in draw.members(s, settings) if m.kind == "expert"]) == 3   # the remaining places
        assert draw.shortfall(s, settings) == 0
        draw.accept_pledge(s, settings, actor="zuzhang", now=NOW, member_id=member.id)
        draw.require_pledged(s, settings, "zuzhang")
        assert draw.panel(s, settings).leader == "zuzhang"
        with pytest.raises(InvalidInput) as exc:   # a drawn expert is no leader: his place is a drawn one
            leader.engage(s, settings, actor="mishu", now=NOW, who=row.order[0])
        assert exc.value.code == "leader_is_drawn"


def test_engaging_another_leader_replaces_the_first_and_a_leader_who_declines_asks_no_reserve(world, settings):
    with world.begin() as s:
        leader.engage(s, settings, actor="mishu", now=NOW, who="zuzhang")
        leader.engage(s, settings, actor="mishu", now=NOW, who="e1")
        assert s.scalars(select(Person.userid).where(Person.role == "expert_leader")).all() == ["e1"]
        assert draw.pending_for(s, settings, "zuzhang").status == "replaced"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "draw.leader")
                          .order_by(AuditEntry.id.desc())).first()
        assert entry.details["previous"] == "zuzhang"
        _import(s, settings)
        draw.draw(s, settings, actor="mishu", now=NOW, count=2, seed="S-42")
        asked = len([m for m in draw.members(s, settings) if m.status == "asked"])
        assert draw.decline(s, settings, actor="e1", now=NOW, member_id=draw.leader_member(s, settings).id) is None
        assert len([m for m in draw.members(s, settings) if m.status == "asked"]) == asked - 1   # no reserve asked
        assert s.get(Person, "e1").role == "expert" and draw.leader_of(s, settings) is None
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "draw.declined")).one()
        assert told.data["was_leader"] is True and told.data["reserve"] == ""


def test_without_a_draw_the_roster_experts_review_as_before(world, settings):
    with world() as s:
        assert len(experts.pool_members(s, settings)) == 7
        draw.require_pledged(s, settings, "e1")   # no draw: nothing to refuse


def test_a_roster_leader_who_was_not_engaged_leads_nothing_after_the_draw(world, settings):
    with world.begin() as s:
        _import(s, settings)
        draw.draw(s, settings, actor="mishu", now=NOW, count=2, seed="S-42")
        assert s.get(Person, "zuzhang").role == "expert"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "draw.make")).one()
        assert entry.details["leaders_not_engaged"] == ["zuzhang"] and entry.details["leader"] is None


def _decline(s, settings, userid):
    member = draw.pending_for(s, settings, userid)
    return draw.decline(s, settings, actor=userid, now=NOW, member_id=member.id)


def test_a_supplementary_draw_when_the_reserves_ran_out_is_reproducible_verified_and_asks_for_the_pledge(
        world, settings):
    with world.begin() as s:
        _import(s, settings)                                   # e6 is excluded (applicant): 6 eligible
        row = draw.draw(s, settings, actor="mishu", now=NOW, count=2, seed="S-1")
        first = list(row.order)
        experts_, reserves = first[:2], first[2:4]
        left = [u for u in first if u not in experts_ + reserves]
        with pytest.raises(InvalidInput) as exc:               # reserves are still waiting
            draw.check_supplement(s, settings, 1, "S-2")
        assert exc.value.code == "supplement_reserves_left" and exc.value.data["reserves"] == 2
        for u in (experts_[0], reserves[0], reserves[1]):
            _decline(s, settings, u)
        assert draw.shortfall(s, settings) == 1 and draw.supplement_offer(s, settings) == (1, 1)
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "draw.declined")
                         .order_by(OutboxMessage.id)).all()[-1]
        assert told.data["need"] == 1 and told.data["reserve"] == ""
        for count, seed, code in ((2, "S-2", "supplement_bad_count"), (0, "S-2", "supplement_bad_count"),
                                  (1, "S-1", "supplement_seed_used"), (1, " ", "draw_bad_seed")):
            with pytest.raises(InvalidInput) as exc:
                draw.supplement(s, settings, actor="mishu", now=NOW, count=count, seed=seed)
            assert exc.value.code == code
        with pytest.raises(NotAllowed):
            draw.supplement(s, settings, actor="e1", now=NOW, count=1, seed="S-2")
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "draw.supplement")).all() == []
        record = draw.supplement(s, settings, actor="mishu", now=NOW, count=1, seed=" S-2 ")
        assert record["seed"] == "S-2" and record["order"] == draw.rank("S-2", left)
        assert record["drawn"] == draw.rank("S-2", left)[:1]   # anyone can re-derive it
        new = draw.pending_for(s, settings, record["drawn"][0])
        assert (new.kind, new.status, new.position) == ("supplement", "asked", 5)
        assert s.scalars(select(CardTask).where(CardTask.subject == f"pledge:{new.id}")).one().recipient == new.userid
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "draw.supplement")).one()
        assert entry.details["drawn"] == record["drawn"] and entry.details["before"] == sorted(first[:4])
        with pytest.raises(NotAllowed) as exc:                 # no material before the pledge
            draw.require_pledged(s, settings, new.userid)
        assert exc.value.code == "pledge_required"
        with pytest.raises(AlreadyDone):                       # the group is full again
            draw.check_supplement(s, settings, 1, "S-3")
    with world() as s:
        checks = draw.verify_all(s, settings, "S-1", ["S-2"])
        assert [(v.number, v.matches) for v in checks] == [(0, True), (1, True)]
        assert checks[1].experts == record["drawn"]
        unchecked = draw.verify_all(s, settings, "S-1", [])
        assert (unchecked[1].checked, unchecked[1].matches) == (False, False)
        wrong = draw.verify_supplement(s, settings, 1, "S-9")
        assert not wrong.matches and wrong.pool_matches and not wrong.seed_matches
        with pytest.raises(NotFound):
            draw.verify_supplement(s, settings, 2, "S-2")
    with world.begin() as s:                                   # he declines too: a second supplementary draw
        _decline(s, settings, record["drawn"][0])
        last = [u for u in left if u not in record["drawn"]]
        second = draw.supplement(s, settings, actor="mishu", now=NOW, count=1, seed="S-3")
        assert second["number"] == 2 and second["drawn"] == last
        _decline(s, settings, last[0])
        with pytest.raises(InvalidInput) as exc:               # nobody is left in the pool
            draw.check_supplement(s, settings, 1, "S-4")
        assert exc.value.code == "supplement_not_enough"
        assert draw.supplement_offer(s, settings) == (1, 0)     # so nothing is offered: the pool is exhausted
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "draw.declined")
                         .order_by(OutboxMessage.id)).all()[-1]
        assert (told.data["need"], told.data["can_draw"]) == (1, 0)
        assert [v.matches for v in draw.verify_all(s, settings, "S-1", ["S-2", "S-3"])] == [True, True, True]
