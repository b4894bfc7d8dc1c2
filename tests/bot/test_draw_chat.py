"""The expert draw through the real encrypted webhook and the CLI: pool import, draw, verify, pledges by card,
a decline moving to the reserve, the leader; no material before the pledge."""
from __future__ import annotations

from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.commands import draw as draw_commands
from bot.commands import experts as experts_commands
from tests.bot.application_helpers import click as tap
from tests.bot.application_helpers import confirm_last, last_card, say
from tests.bot.conftest import deliver, texts
from tests.workflows.scoringdata import T_MATERIAL, add_application, add_roster, open_phase
from workflows.core.models import Person
from workflows.scoring import draw
from workflows.scoring.draw_models import PoolEntry

HEADER = "name,organisation,region,specialty,contact,userid\n"
ROWS = [("组长·周立平", "中国质量协会", "北京市", "zuzhang"), ("专家一", "广东省质量协会", "广州市", "e1"),
        ("专家二", "华南理工大学", "广州市", "e2"), ("专家三", "深圳市标准技术研究院", "深圳市", "e3"),
        ("专家四", "佛山市质量研究院", "佛山市", "e4"), ("专家五", "韶关学院", "浈江区", "e5")]
POOL = HEADER + "".join(f"{n},{o},{r},卓越绩效,0751-880000{i},{u}\n" for i, (n, o, r, u) in enumerate(ROWS))
SEED = "2018-11-20 双色球 07 12 19"


@pytest.fixture
def run(rt):
    group = click.Group("bot")
    experts_commands.register(group)
    draw_commands.register(group)
    obj = SimpleNamespace(runtime=rt, settings=rt.settings)

    def invoke(*args):
        return CliRunner().invoke(group, list(args), obj=obj, catch_exceptions=False)
    return invoke


@pytest.fixture
def world(rt, clock, tmp_path):
    clock.set(T_MATERIAL)
    with rt.sessions.begin() as s:
        add_roster(s, T_MATERIAL)
        add_application(s, rt.settings, 1, name="企业一")
        open_phase(s, rt.settings, "material", T_MATERIAL)
    return rt


def _pledge_card(wecom, userid):
    return next(b["template_card"] for b in reversed(wecom.messages_to(userid))
                if b.get("msgtype") == "template_card"
                and b["template_card"]["button_list"][0]["key"].startswith("pledge:"))


def test_pool_import_refuses_bad_lines_by_number_and_imports_nothing(world, run, tmp_path):
    bad = tmp_path / "pool.csv"
    bad.write_text(POOL + "专家一, 广东省质量协会 ,广州市,卓越绩效,0751-1,\n陌生人,某单位,广州市,卓越绩效,0751-2,nobody\n",
                   encoding="utf-8")
    result = run("experts", "pool", "import", str(bad))
    assert result.exit_code == 1
    assert "line 8: pool_duplicate 专家一 广东省质量协会 (line 3)" in result.stderr
    assert "line 9: pool_not_expert nobody" in result.stderr
    assert "nothing imported" in result.stderr
    with world.sessions() as s:
        assert s.scalars(select(PoolEntry)).all() == []
    good = tmp_path / "good.csv"
    good.write_text(POOL, encoding="utf-8")
    result = run("experts", "pool", "import", str(good))
    assert result.exit_code == 0 and "imported 6 experts" in result.stdout


def test_draw_in_chat_then_pledges_by_card_before_any_material(world, run, cb, wecom, tmp_path):
    rt = world
    path = tmp_path / "pool.csv"
    path.write_text(POOL, encoding="utf-8")
    assert run("experts", "pool", "import", str(path)).exit_code == 0
    assert "不适用于您的身份" in say(cb, rt, wecom, "e1", "专家抽选 3 x")[-1]   # an expert may not draw
    status = say(cb, rt, wecom, "mishu", "专家抽选")[-1]
    assert "专家库 6 人" in status and "尚未抽选" in status
    assert "还没有导入专家库" not in status
    out = say(cb, rt, wecom, "mishu", f"专家抽选 3 {SEED}")
    assert out[-1].startswith("确认抽选评审专家")
    confirm_last(cb, rt, wecom, "mishu")
    order = draw.rank(SEED, [u for *_, u in ROWS])
    assert "抽选完成" in texts(wecom, "mishu")[-1] and order[0] in texts(wecom, "mishu")[-1]
    first, second, reserve = order[0], order[1], order[3]
    assert any("评审专家承诺书" in t and "保密" in t for t in texts(wecom, first))
    assert not any("承诺书" in t for t in texts(wecom, reserve))            # a reserve waits until needed
    # No material before the pledge: a polite refusal, nothing sent.
    reply = say(cb, rt, wecom, first, "查阅 SG2018-001")
    assert "请先接受《评审专家承诺书》" in reply[-1]
    # Accept: the card asks to confirm first, then it is recorded.
    tap(cb, wecom, first, _pledge_card(wecom, first), _pledge_card(wecom, first)["button_list"][0]["key"])
    deliver(rt)
    assert last_card(wecom, first)["main_title"]["title"] == "确认接受评审专家承诺书"
    confirm_last(cb, rt, wecom, first)
    assert "已记录您接受评审专家承诺书" in texts(wecom, first)[-1]
    reply = say(cb, rt, wecom, first, "查阅 SG2018-001")
    assert "没有分配给您" in reply[-1]                                       # past the pledge now
    # Decline: the next reserve is asked and the secretariat told.
    card = _pledge_card(wecom, second)
    tap(cb, wecom, second, card, card["button_list"][1]["key"])
    deliver(rt)
    assert "谢绝的原因" in texts(wecom, second)[-1]
    say(cb, rt, wecom, second, "近期在外地出差")
    assert last_card(wecom, second)["quote_area"]["quote_text"] == "近期在外地出差"
    confirm_last(cb, rt, wecom, second)
    assert "谢绝" in texts(wecom, second)[-1]
    assert any("评审专家承诺书" in t for t in texts(wecom, reserve))
    assert any("谢绝参加本届评审（近期在外地出差）" in t and "替补专家" in t for t in texts(wecom, "mishu"))
    # A second tap on the answered card changes nothing.
    tap(cb, wecom, second, card, card["button_list"][0]["key"])
    deliver(rt)
    assert "已答复过承诺书" in texts(wecom, second)[-1]
    with rt.sessions() as s:
        assert {m.userid: m.status for m in draw.members(s, rt.settings)}[second] == "declined"
    # 承诺书 again: the reserve gets it re-sent; the one who accepted is told so.
    assert "已接受评审专家承诺书" in say(cb, rt, wecom, first, "承诺书")[-1]
    # Verify in chat and with the CLI.
    assert "核验一致" in say(cb, rt, wecom, "mishu", f"专家抽选 核验 {SEED}")[-1]
    assert "核验不一致" in say(cb, rt, wecom, "mishu", "专家抽选 核验 另一个种子")[-1]
    result = run("experts", "draw", "--verify", "--seed", SEED)
    assert result.exit_code == 0 and "MATCH" in result.stdout and ", ".join(order[:3]) in result.stdout
    result = run("experts", "draw", "--verify", "--seed", "wrong")
    assert result.exit_code == 1 and "MISMATCH" in result.stderr
    # A second draw is refused.
    assert "不能重抽" in say(cb, rt, wecom, "mishu", "专家抽选 3 again")[-1]
    # The leader is engaged apart from the draw (a drawn expert cannot be), confirmed, then asked to pledge.
    assert "不能同时聘为组长" in say(cb, rt, wecom, "mishu", f"组长 {first}")[-1]
    say(cb, rt, wecom, "mishu", "组长 e6 韶质奖聘〔2018〕1号")
    assert "确认聘请专家组组长" in last_card(wecom, "mishu")["main_title"]["title"]
    confirm_last(cb, rt, wecom, "mishu")
    assert "已聘请" in texts(wecom, "mishu")[-1]
    assert any("您已受聘任" in t for t in texts(wecom, "e6"))
    with rt.sessions() as s:
        assert s.scalars(select(Person.userid).where(Person.role == "expert_leader")).all() == ["e6"]
    status = say(cb, rt, wecom, "mishu", "专家抽选")[-1]
    assert SEED in status and "聘请的组长 · 待确认承诺书 · **组长**" in status and "已谢绝" in status


def test_cli_draw_prints_the_panel_and_refuses_politely(world, run, tmp_path):
    path = tmp_path / "pool.csv"
    path.write_text(POOL, encoding="utf-8")
    result = run("experts", "draw", "--count", "3", "--seed", SEED)
    assert result.exit_code == 1 and "专家库" in result.stderr               # no pool yet
    run("experts", "pool", "import", str(path))
    result = run("experts", "draw", "--count", "9", "--seed", SEED)
    assert result.exit_code == 1 and "不足 9 人" in result.stderr
    result = run("experts", "draw", "--count", "3", "--seed", SEED, "--actor", "mishu")
    assert result.exit_code == 0 and f"seed: {SEED}" in result.stdout and "reserve" in result.stdout
    order = draw.rank(SEED, [u for *_, u in ROWS])
    result = run("experts", "leader", order[2], "--actor", "mishu")
    assert result.exit_code == 1 and "不能同时聘为组长" in result.stderr
    result = run("experts", "leader", order[-1], "--basis", "聘书1号", "--actor", "mishu")
    assert result.exit_code == 0 and f"leader engaged: {order[-1]}" in result.stdout
    assert "LEADER" in run("experts", "panel").stdout


def test_a_supplementary_draw_in_chat_when_the_reserves_ran_out_and_verify_covers_both(world, run, cb, wecom,
                                                                                        tmp_path):
    rt = world
    path = tmp_path / "pool.csv"
    path.write_text(POOL, encoding="utf-8")
    run("experts", "pool", "import", str(path))
    assert run("experts", "draw", "--count", "3", "--seed", SEED, "--actor", "mishu").exit_code == 0
    order = draw.rank(SEED, [u for *_, u in ROWS])          # 3 experts, 2 reserves, 1 left in the pool
    assert "还有 2 名替补未递补" in say(cb, rt, wecom, "mishu", "专家抽选 补充 1 第二个种子")[-1]
    with rt.sessions.begin() as s:                          # the first expert and both reserves decline
        for u in (order[0], order[3], order[4]):
            m = draw.pending_for(s, rt.settings, u)
            draw.decline(s, rt.settings, actor=u, now=rt.clock(), member_id=m.id)
    deliver(rt)
    assert any("替补已用完" in t and "专家抽选 补充 1 种子" in t for t in texts(wecom, "mishu"))
    assert "专家组还差 1 名" in say(cb, rt, wecom, "mishu", "专家抽选")[-1]
    assert "不适用于您的身份" in say(cb, rt, wecom, "e1", "专家抽选 补充 1 第二个种子")[-1]
    assert "已用于本届的抽选" in say(cb, rt, wecom, "mishu", f"专家抽选 补充 1 {SEED}")[-1]
    assert "须为 1 至 1 名" in say(cb, rt, wecom, "mishu", "专家抽选 补充 2 第二个种子")[-1]
    out = say(cb, rt, wecom, "mishu", "专家抽选 补充 1 2018-12-01 双色球 03 08")
    assert out[-1].startswith("确认补充抽选评审专家")
    with rt.sessions() as s:
        assert draw.recorded(s, rt.settings).supplements == []          # nothing before 确认
    confirm_last(cb, rt, wecom, "mishu")
    [last] = [u for *_, u in ROWS if u not in order[:5]]
    assert "补充抽选完成" in texts(wecom, "mishu")[-1] and last in texts(wecom, "mishu")[-1]
    assert any("补充抽选的评审专家" in t for t in texts(wecom, last))
    card = _pledge_card(wecom, last)
    tap(cb, wecom, last, card, card["button_list"][0]["key"])
    deliver(rt)
    confirm_last(cb, rt, wecom, last)
    assert "已记录您接受评审专家承诺书" in texts(wecom, last)[-1]
    reply = say(cb, rt, wecom, "mishu", "专家抽选 核验 补充1 2018-12-01 双色球 03 08")[-1]
    assert "核验一致" in reply and "第 1 次补充抽选" in reply
    reply = say(cb, rt, wecom, "mishu", "专家抽选 核验 补充 另一个种子")[-1]   # one left: same order, other seed
    assert "核验不一致" in reply and "种子与公布的不同" in reply
    assert "没有第 2 次补充抽选" in say(cb, rt, wecom, "mishu", "专家抽选 核验 补充2 x")[-1]
    result = run("experts", "draw", "--verify", "--seed", SEED, "--supplement-seed", "2018-12-01 双色球 03 08")
    assert result.exit_code == 0 and "draw MATCH" in result.stdout and "supplement 1 MATCH" in result.stdout
    result = run("experts", "draw", "--verify", "--seed", SEED)
    assert result.exit_code == 1 and "supplement 1: NOT CHECKED" in result.stderr
    result = run("experts", "draw", "--supplement", "--count", "1", "--seed", "third")
    assert result.exit_code == 1 and "不需要补充抽选" in result.stderr
    assert f"supplement 1: seed 2018-12-01 双色球 03 08; drawn {last}" in run("experts", "panel").stdout


def test_a_pool_without_userids_drawn_experts_not_yet_reachable_until_the_roster_import_enrols_them(
        world, run, cb, wecom, tmp_path):
    """23.2 through the CLI and chat: the panel says who is drawn but not yet reachable, with his contact; a roster
    import (or `experts enrol`) links him and the bot asks him for the pledge."""
    from bot.commands.roster import roster
    rt = world
    rows = [("李明", "广州质量研究院"), ("王芳", "深圳标准院"), ("赵强", "佛山质量协会"), ("陈静", "东莞质量协会")]
    path = tmp_path / "pool.csv"
    path.write_text("name,organisation,region,specialty,contact\n"
                    + "".join(f"{n},{o},广州市,卓越绩效,1390000000{i}\n" for i, (n, o) in enumerate(rows)),
                    encoding="utf-8")
    assert run("experts", "pool", "import", str(path)).exit_code == 0
    assert run("experts", "draw", "--count", "2", "--seed", SEED, "--actor", "mishu").exit_code == 0
    order = draw.rank(SEED, [f"{n}|{o}" for n, o in rows])
    panel = run("experts", "panel").stdout
    assert panel.count("DRAWN, NOT YET REACHABLE") == 2 and "contact 139" in panel
    deliver(rt)
    assert any("尚未加入企业微信" in t and "1390000000" in t for t in texts(wecom, "mishu"))
    assert "已抽中，尚未加入通讯录" in say(cb, rt, wecom, "mishu", "专家抽选")[-1]
    # The system administrator imports the first one into the roster: linked by name and organisation, asked.
    first, second = order[0].split("|"), order[1].split("|")
    roster_csv = tmp_path / "roster.csv"
    roster_csv.write_text(f"userid,name,role,organization,region\nnew1,{first[0]},expert,{first[1]},广州市\n"
                          f"new2,{second[0]},expert,别的单位,广州市\n", encoding="utf-8")
    group = click.Group("bot")
    group.add_command(roster)
    result = CliRunner().invoke(group, ["roster", "import", str(roster_csv)],
                                obj=SimpleNamespace(runtime=rt, settings=rt.settings), catch_exceptions=False)
    assert result.exit_code == 0 and f"drawn expert enrolled: {order[0]} -> new1" in result.stdout
    deliver(rt)
    assert any("评审专家承诺书" in t for t in texts(wecom, "new1"))
    # The second's organisation differs in the roster: the secretariat links him by hand.
    assert run("experts", "enrol", "无此人", "new2", "--actor", "mishu").exit_code == 2
    result = run("experts", "enrol", second[0], "new2", "--actor", "mishu")
    assert result.exit_code == 0 and f"enrolled: {order[1]} -> new2 (asked)" in result.stdout
    assert "NOT YET REACHABLE" not in run("experts", "panel").stdout


def test_the_workbench_lists_the_group_with_who_is_drawn_but_not_yet_reachable(world, http, wecom):
    """23.2 on the workbench: the experts page shows the engaged leader and each drawn expert's state, with the
    contact of one not yet enrolled."""
    from tests.bot.admin_helpers import sign_in
    from workflows.scoring import leader
    rt = world
    with rt.sessions.begin() as s:
        leader.engage(s, rt.settings, actor="mishu", now=rt.clock(), who="zuzhang", basis="聘书1号")
        draw.import_pool(s, rt.settings, actor="mishu", now=rt.clock(),
                         text="name,organisation,region,specialty,contact\n李明,广州质量研究院,广州市,卓越绩效,13900000001\n")
        draw.draw(s, rt.settings, actor="mishu", now=rt.clock(), count=1, seed=SEED)
    sign_in(http, wecom, "mishu")
    page = http.get("/admin/experts").get_data(as_text=True)
    assert 'id="panel"' in page and "聘请的组长" in page and "待确认承诺书" in page
    assert "已抽中，尚未加入通讯录" in page and "13900000001" in page
