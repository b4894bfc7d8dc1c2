"""The operator's command line: config errors, roster import, stages, sample, outbox status."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner


from bot.cli import main
from workflows.core.db import make_engine

from ..conftest import ROOT, reset_database


@pytest.fixture
def config_file(tmp_path: Path, settings) -> Path:
    engine = make_engine(settings.database.url)
    reset_database(engine)  # the CLI migrates an empty database itself
    engine.dispose()
    body = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    body = body.replace('url = "sqlite:///var/awardbot.sqlite3"', f'url = "{settings.database.url}"')
    body = body.replace('dir = "var/uploads"', f'dir = "{tmp_path / "uploads"}"')
    body = body.replace("time_travel = false", "time_travel = true")  # the tests replay the calendar
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    assert tomllib.loads(body)["database"]["url"] == settings.database.url
    return path


def run(config: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)


def test_bad_config_stops_with_the_key_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "config.example.toml").read_text(encoding="utf-8").replace("winners = 3", "winners = 0"),
                   encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(bad), "stage", "status"])
    assert result.exit_code == 2 and "award.rules.winners" in result.output


def test_roster_import_reports_bad_lines_and_imports_nothing(config_file, tmp_path):
    csv = tmp_path / "roster.csv"
    csv.write_text("userid,name,role,organization,region\na,甲,expert,X,广州\nb,乙,boss,Y,深圳\n", encoding="utf-8")
    result = run(config_file, "roster", "import", str(csv))
    assert result.exit_code == 1 and "line 3: bad_role" in result.output and "nothing imported" in result.output
    csv.write_text("userid,name,role,organization,region\na,甲,expert,X,广州\n", encoding="utf-8")
    result = run(config_file, "roster", "import", str(csv))
    assert result.exit_code == 0 and "1 new" in result.output


def test_sample_until_apply_opens_the_application_stage(config_file):
    result = run(config_file, "sample", "--until", "apply")
    assert result.exit_code == 0, result.output
    status = run(config_file, "stage", "status").output
    assert [line.split()[1] for line in status.splitlines() if line.startswith("apply")] == ["open"]
    again = run(config_file, "sample", "--until", "apply")
    assert "already there" in again.output


def test_outbox_status(config_file):
    assert run(config_file, "sample", "--until", "apply").exit_code == 0
    result = run(config_file, "outbox", "status")
    assert result.exit_code == 0 and "pending=0" in result.output
