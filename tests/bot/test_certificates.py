"""The winners' 证书 from the workbench and the CLI, on the sample edition after its announcement."""
from __future__ import annotations

import datetime as dt

import click
from click.testing import CliRunner
from sqlalchemy import func, select

from bot import sample
from bot.approval import docx_text
from bot.commands import award as commands
from tests.bot.admin_helpers import csrf, sign_in
from workflows import publicity
from workflows.publicity.models import Certificate

NOW = dt.datetime(2019, 4, 10, 2, 0, tzinfo=dt.timezone.utc)   # after the first edition's announcement


def _announced(rt, clock):
    clock.set(NOW)
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "award", clock())
        approval = publicity.current_approval(s, rt.settings)
        assert approval.announced_at is not None
        return [publicity.describe(s, a) for a in approval.approved]


def _count(rt):
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(Certificate))


def test_issue_from_the_workbench_then_download_and_print(rt, http, wecom, clock):
    winners = _announced(rt, clock)
    sign_in(http, wecom, "mishu")
    listing = http.get("/admin/certificates")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200 and f"为 {len(winners)} 家获奖单位生成证书" in html
    ask = http.post("/admin/certificates", data={"csrf": csrf(listing.data)})
    assert ask.status_code == 200 and "确认生成" in ask.get_data(as_text=True)
    assert _count(rt) == 0                                          # asked first: nothing numbered yet
    done = http.post("/admin/certificates", data={"csrf": csrf(ask.data), "confirmed": "1"})
    assert done.status_code == 303
    page = http.get("/admin/certificates?done=1").get_data(as_text=True)
    assert "ZS2018-001" in page and 'id="issue"' not in page          # nothing more to issue
    word = http.get("/admin/certificates/ZS2018-001.docx")
    assert word.status_code == 200 and "attachment" in word.headers["Content-Disposition"]
    text = docx_text(word.data)
    assert winners[0]["name"] in text and "ZS2018-001" in text and "韶关市人民政府" in text
    assert "2019年4月10日" in text
    printable = http.get(f"/admin/certificates/{winners[1]['number']}.html").get_data(as_text=True)
    assert winners[1]["name"] in printable and "ZS2018-002" in printable
    assert http.get("/admin/certificates/ZS2018-999.docx").status_code == 404
    assert http.get("/admin/certificates/ZS2018-001.exe").status_code == 404
    again = http.post("/admin/certificates", data={"csrf": csrf(ask.data), "confirmed": "1"})
    assert again.status_code == 409 and "编号不会重新分配" in again.get_data(as_text=True)
    assert _count(rt) == len(winners)


def test_an_expert_cannot_open_certificates(rt, http, wecom, clock):
    _announced(rt, clock)
    sign_in(http, wecom, "zhuanjia1")
    assert http.get("/admin/certificates").status_code == 403


class _Obj:
    def __init__(self, runtime):
        self.runtime = runtime


def test_cli_issues_once_and_writes_every_file(rt, clock, tmp_path):
    winners = _announced(rt, clock)
    out = tmp_path / "certificates"
    main = click.Group("bot")
    commands.register(main)
    runner = CliRunner()
    first = runner.invoke(main, ["award", "certificates", "--out", str(out)], obj=_Obj(rt),
                          catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert first.output.count("issued ZS2018-") == len(winners)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"ZS2018-{i:03d}.{fmt}" for i in range(1, len(winners) + 1) for fmt in ("docx", "html"))
    second = runner.invoke(main, ["award", "certificates"], obj=_Obj(rt), catch_exceptions=False)
    assert second.exit_code == 0 and "issued" not in second.output.replace("issued in all", "")
    assert _count(rt) == len(winners)
