"""The roster is true: removal and role changes take effect at once everywhere; regions in one canonical form."""
from __future__ import annotations

from urllib.parse import urlparse

from sqlalchemy import select

from bot import sample
from bot.samples.application import SAMPLES, _apply
from tests.bot.application_helpers import click, last_card, open_apply, say
from tests.bot.conftest import deliver, texts
from workflows import apply
from workflows.apply.models import AppStatus, Application
from workflows.core import audit, conversation, people
from workflows.core.models import Person

HEADER = "userid,name,role,organization,region\n"


def submitted(rt, unit: str = "武江区", sample_row: int = 0) -> int:
    """One complete application submitted through the real services; its unit's recommenders get the card."""
    with rt.sessions.begin() as s:
        app = _apply(s, rt.settings, rt.clock(), SAMPLES[sample_row], unit)
        return app.id


def test_a_removed_recommender_loses_words_cards_and_links_at_once(cb, rt, wecom, http):
    open_apply(rt)
    app_id = submitted(rt)
    deliver(rt)
    card = last_card(wecom, "tuijian-wj")
    link = urlparse(card["card_action"]["url"]).path
    assert http.get(link).status_code == 200                      # the material view works while on the roster
    with rt.sessions.begin() as s:
        people.remove_member(s, "tuijian-wj", actor="cli", now=rt.clock(), reason="调离")
    # the card already sent: a click is refused, audited, and nothing is decided
    assert click(cb, wecom, "tuijian-wj", card, f"rec:recommend:{app_id}").status == 200
    deliver(rt)
    assert "已不在" in texts(wecom, "tuijian-wj")[-1]
    with rt.sessions() as s:
        assert s.get(Application, app_id).status == AppStatus.SUBMITTED
        refused = audit.entries(s, action="access.refused")
        assert [e.actor for e in refused] == ["tuijian-wj"]
        assert [e.subject for e in audit.entries(s, action="roster.deactivated")] == ["person:tuijian-wj"]
    # the chat word, and the read-only material link
    assert "已不在" in say(cb, rt, wecom, "tuijian-wj", "推荐")[-1]
    assert http.get(link).status_code == 403
    # help says so and offers only what everyone may use
    help_text = "".join(say(cb, rt, wecom, "tuijian-wj", "帮助"))
    assert "已不在本届评审工作名单中" in help_text and "`推荐`" not in help_text and "`阶段`" in help_text


def test_a_removed_secretariat_member_is_refused_mid_conversation_and_his_step_ends(cb, rt, wecom):
    open_apply(rt)
    with rt.sessions.begin() as s:
        conversation.start(s, "mishu", "review", "reason", now=rt.clock())
        people.remove_member(s, "mishu", actor="cli", now=rt.clock())
        assert conversation.current(s, "mishu") is None
    assert "已不在" in say(cb, rt, wecom, "mishu", "审查")[-1]
    assert "已不在" in say(cb, rt, wecom, "mishu", "随便说点什么")[-1]
    with rt.sessions() as s:
        assert people.member(s, "mishu") is None and people.standing(s, "mishu") == (None, True)


def test_a_role_change_by_import_takes_effect_at_once(cb, rt, wecom):
    open_apply(rt)
    assert "审查" in "".join(say(cb, rt, wecom, "mishu", "帮助"))
    with rt.sessions.begin() as s:
        conversation.start(s, "mishu", "review", "reason", now=rt.clock())
        result = people.import_roster(s, HEADER + "mishu,秘书处·李敏,expert,韶关学院,\n", actor="cli",
                                      now=rt.clock(), settings=rt.settings)
        assert result.role_changes == (("mishu", "secretariat", "expert"),)
        assert conversation.current(s, "mishu") is None
    reply = say(cb, rt, wecom, "mishu", "审查")[-1]
    assert "不适用" in reply
    help_text = "".join(say(cb, rt, wecom, "mishu", "帮助"))
    assert "评审专家" in help_text and "`审查`" not in help_text and "`评分`" in help_text
    with rt.sessions() as s:
        [e] = audit.entries(s, action="roster.role_changed")
        assert e.subject == "person:mishu" and e.details["old"] == "secretariat"


def test_an_upload_link_stops_working_when_its_holder_is_deactivated(rt, sessions):
    from workflows import intake
    from workflows.core.errors import NotAllowed
    open_apply(rt)
    app_id = submitted(rt)
    with sessions.begin() as s:
        app = s.get(Application, app_id)
        app.status = AppStatus.RETURNED
        s.add(Person(userid=app.applicant, name="前委员", role="committee", organization="", region="",
                     active=False, updated_at=rt.clock()))
    with sessions() as s:
        try:
            intake.check(s, rt.settings, intake.Target("material", app_id, "application_form"),
                         actor=SAMPLES[0][0], now=rt.clock())
        except NotAllowed as exc:
            assert exc.data["role"] == "inactive"
        else:
            raise AssertionError("an inactive member's upload link still works")


def test_a_recommender_listed_by_region_code_gets_the_cards_and_the_pending_list(cb, rt, wecom):
    open_apply(rt)
    with rt.sessions.begin() as s:
        people.import_roster(s, HEADER + "qj-new,曲江区质量办·何平,recommender,曲江区人民政府,440205\n",
                             actor="cli", now=rt.clock(), settings=rt.settings)
        assert s.get(Person, "qj-new").region == "曲江区"          # stored in the canonical form
    submitted(rt, "曲江区", 2)
    deliver(rt)
    assert any(c.get("msgtype") == "template_card" for c in wecom.messages_to("qj-new"))
    assert "SG2018-001" in say(cb, rt, wecom, "qj-new", "推荐")[-1]


def test_roster_lines_with_unknown_units_are_refused_by_line_number(settings):
    text = HEADER + ("ok,甲,recommender,韶关市XX局,武江区\n"
                     "a,乙,recommender,某局,\n"            # no region and not a configured department
                     "b,丙,recommender,,曲江\n"             # not a configured region name
                     "c,丁,expert,某大学,440299\n"          # a code, but not one of the edition's
                     "d,戊,expert,某大学,广州市\n"          # an expert's home city: kept as it is
                     "e,己,recommender,市商务局,\n")        # a configured department
    rows, problems = people.parse_roster(text, settings)
    assert [(p.line, p.code, p.detail) for p in problems] == [
        (3, "unknown_unit", "某局"), (4, "unknown_region", "曲江"), (5, "unknown_region", "440299")]
    assert [r["region"] for r in rows] == ["武江区", "广州市", ""]


def test_the_sample_uses_the_rosters_own_recommenders(rt):
    """The roster's only recommender is a city department: no county of the sample's enterprises has one, so each
    goes to the department with a reason (issue 23.8: a county recommends only its own enterprises)."""
    with rt.sessions.begin() as s:
        people.import_roster(s, HEADER + "ms,秘书·甲,secretariat,,\nrx,市商务局·乙,recommender,市商务局,\n",
                             actor="cli", now=rt.clock(), settings=rt.settings)
        sample.run(s, rt.settings, "review", rt.clock())
    with rt.sessions() as s:
        apps = s.scalars(select(Application)).all()
        assert len(apps) == len(SAMPLES) and {a.status for a in apps} == {AppStatus.RECOMMENDED}
        assert {apply.unit_name(rt.settings, a) for a in apps} == {"市商务局"} and all(a.unit_reason for a in apps)
        assert s.scalar(select(Person).where(Person.userid == "tuijian-wj")) is None   # no demo member mixed in


def test_the_sample_refuses_naming_the_missing_role_and_changes_nothing(rt):
    import pytest
    with rt.sessions.begin() as s:
        people.import_roster(s, HEADER + "ms,秘书·甲,secretariat,,\n", actor="cli", now=rt.clock(),
                             settings=rt.settings)
    with pytest.raises(sample.MissingRole, match="recommender"):
        with rt.sessions.begin() as s:
            sample.run(s, rt.settings, "review", rt.clock())
    with rt.sessions() as s:
        assert s.scalars(select(Application)).all() == []


def test_a_roster_never_gets_a_second_leader_or_chair(rt):
    """组长 and 主任 are one person each: a file naming two, or one while another keeps the role, is refused whole."""
    with rt.sessions.begin() as s:
        people.import_roster(s, HEADER + "lead1,组长甲,expert_leader,韶关学院,\nchair1,主任甲,committee_chair,市政府,\n",
                             actor="cli", now=rt.clock(), settings=rt.settings)
    for text, replace, expected in (
            ("lead2,组长乙,expert_leader,韶关学院,\n", False, [(2, "second_expert_leader", "lead2 (also expert_leader: lead1)")]),
            ("x,某,expert,学院,\nc2,乙,committee_chair,市政府,\nc3,丙,committee_chair,市政府,\n", True,
             [(4, "second_committee_chair", "c3 (also committee_chair: c2)")])):
        with rt.sessions.begin() as s:
            result = people.import_roster(s, HEADER + text, actor="cli", now=rt.clock(), settings=rt.settings,
                                          replace=replace)
            assert [(p.line, p.code, p.detail) for p in result.problems] == expected
            assert (result.created, result.updated) == (0, 0)
    with rt.sessions.begin() as s:                 # the leader handing over in the same file is fine
        result = people.import_roster(s, HEADER + "lead1,组长甲,expert,韶关学院,\nlead2,组长乙,expert_leader,韶关学院,\n",
                                      actor="cli", now=rt.clock(), settings=rt.settings)
        assert not result.problems
    with rt.sessions() as s:
        assert [p.userid for p in people.with_role(s, "expert_leader")] == ["lead2"]
