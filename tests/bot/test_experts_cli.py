"""CLI: experts assign --propose/--confirm, report material|site --out, scores import/export/candidates."""
import importlib
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

from tests.bot.conftest import deliver, texts
from tests.workflows.scoringdata import (
    ITEM_KEYS, T_MATERIAL, T_SITE, add_application, add_roster, assign_all, open_phase, score, uniform,
)
from workflows import scoring


def _commands():
    return importlib.import_module("bot.commands.experts")


@pytest.fixture
def run(rt, clock):
    clock.set(T_MATERIAL)
    group = click.Group("bot")
    _commands().register(group)
    obj = SimpleNamespace(runtime=rt, settings=rt.settings)

    def invoke(*args):
        return CliRunner().invoke(group, list(args), obj=obj, catch_exceptions=False)
    return invoke


@pytest.fixture
def world(rt):
    with rt.sessions.begin() as s:
        add_roster(s, T_MATERIAL)
        open_phase(s, rt.settings, "material", T_MATERIAL)
        for n, percent in ((1, 80), (2, 70), (3, 40)):
            add_application(s, rt.settings, n, region="440281", name=f"企业{n}")
    return rt


def test_assign_propose_then_confirm_notifies_experts(world, run, wecom):
    result = run("experts", "assign", "--propose")
    assert result.exit_code == 0 and "SG2018-001 企业1:" in result.output
    result = run("experts", "assign", "--confirm")
    assert result.exit_code == 0 and "confirmed 3 applications" in result.output
    deliver(world)
    with world.sessions() as s:
        expert = scoring.assignments(s, world.settings, "material")[1][0]
    assert "SG2018-001" in texts(wecom, expert)[-1]


def test_impossible_assignment_is_refused_with_the_reason(world, run):
    with world.sessions.begin() as s:
        add_application(s, world.settings, 4, name="韶钢集团", region="440204")
        scoring.declare_conflict(s, world.settings, actor="e1", now=T_MATERIAL, number="SG2018-004")
        scoring.declare_conflict(s, world.settings, actor="e2", now=T_MATERIAL, number="SG2018-004")
    result = run("experts", "assign", "--propose")
    assert "PROBLEM SG2018-004" in result.output and "not_enough_eligible" in result.output
    result = run("experts", "assign", "--confirm")
    assert result.exit_code == 1 and "assignment_invalid" in result.output


def _score_everything(rt, percents):
    with rt.sessions.begin() as s:
        assigned = assign_all(s, rt.settings)
        for app_id, p in percents.items():
            for u in assigned[app_id]:
                score(s, rt.settings, u, f"SG2018-{app_id:03d}", uniform(p))


def _sign_off(rt, phase):
    from workflows.scoring import results
    with rt.sessions.begin() as s:
        results.confirm_report(s, rt.settings, actor="zuzhang", now=rt.clock(), phase=phase)


def test_reports_and_export_and_candidates(world, run, tmp_path):
    _score_everything(world, {1: 80, 2: 70, 3: 40})
    result = run("report", "material", "--out", str(tmp_path / "out" / "material.md"))
    assert result.exit_code == 0
    md = (tmp_path / "out" / "material.md").read_text(encoding="utf-8")
    html = (tmp_path / "out" / "material.html").read_text(encoding="utf-8")
    assert "| 1 | SG2018-001 | 企业1 | 800.00 |" in md and "未达 450 分：SG2018-003" in md
    assert "<td>SG2018-002</td>" in html and "专家一" in html
    result = run("scores", "export", str(tmp_path / "sheets.csv"))
    assert "15 sheets" in result.output
    assert (tmp_path / "sheets.csv").read_text(encoding="utf-8-sig").count("material,SG2018-") == 15
    result = run("scores", "candidates")
    assert result.exit_code == 1 and "report_not_confirmed" in result.output   # the leader signs off first
    _sign_off(world, "material")
    result = run("scores", "candidates")
    assert result.exit_code == 0 and result.output.splitlines() == ["1. SG2018-001 企业1", "2. SG2018-002 企业2"]


def test_paper_import_refuses_bad_rows_and_imports_good_ones(world, run, tmp_path):
    with world.sessions.begin() as s:
        assigned = assign_all(s, world.settings)
    expert = assigned[1][0]
    path = tmp_path / "paper.csv"
    path.write_text("number,expert," + ",".join(ITEM_KEYS) + "\n"
                    + f"SG2018-001,{expert}," + ",".join(["61%"] + ["60%"] * 22) + "\n", encoding="utf-8")
    result = run("scores", "import", str(path))
    assert result.exit_code == 1 and "line 2: not_in_step" in result.output and "nothing imported" in result.output
    path.write_text("number,expert," + ",".join(ITEM_KEYS) + "\n"
                    + f"SG2018-001,{expert}," + ",".join(["60%"] * 23) + "\n", encoding="utf-8")
    result = run("scores", "import", str(path))
    assert result.exit_code == 0 and "imported 1 score sheets" in result.output


def test_site_report_shows_composite(world, run, tmp_path, clock):
    _score_everything(world, {1: 80, 2: 70, 3: 40})
    _sign_off(world, "material")
    run("scores", "candidates")
    clock.set(T_SITE)
    with world.sessions.begin() as s:
        open_phase(s, world.settings, "site", T_SITE)
        assigned = assign_all(s, world.settings, "site", T_SITE)
        for app_id, p in {1: 60, 2: 90}.items():
            for u in assigned[app_id]:
                score(s, world.settings, u, f"SG2018-{app_id:03d}", uniform(p), phase="site", now=T_SITE)
    run("report", "site", "--out", str(tmp_path))
    md = (tmp_path / "site.md").read_text(encoding="utf-8")
    # 0.4 × 700 + 0.6 × 900 = 820; 0.4 × 800 + 0.6 × 600 = 680
    assert "| 1 | SG2018-002 | 企业2 | 700.00 | 900.00 | 820.00 |" in md
    assert "| 2 | SG2018-001 | 企业1 | 800.00 | 600.00 | 680.00 |" in md
