"""Shared set-up for the complaint channels' end-to-end tests: a notice under way, the page's form."""
from __future__ import annotations

import re
from html import unescape

from tests.workflows.publicity_fixtures import START, make_apps, make_roster, committee_result

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def start_notice(rt, clock, n: int = 5) -> list[int]:
    """Applications and a roster, and the notice started by the operator on START with the first three."""
    from bot.handlers import publicity as ph
    clock.set(START)
    with rt.sessions.begin() as s:
        ids = make_apps(s, rt.settings, n)
        make_roster(s)
        committee_result(s, rt.settings, ids[:3], ids[3:])
        ph.start(s, rt.settings, rt.renderer, actor="cli", now=START)
    return ids


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields and the challenge's answer of a served complaint form."""
    fields = {m.group(1): unescape(m.group(2))
              for m in re.finditer(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', html)}
    a, b = re.search(r"验证：(\d+) \+ (\d+) = ？", html).groups()
    fields["answer"] = str(int(a) + int(b))
    return fields


def complaint_form(http, **values) -> dict:
    """GET the page and fill its form: the defaults make a valid complaint against SG2018-001."""
    page = http.get("/complaints")
    assert page.status_code == 200, page.get_data(as_text=True)
    data = form_fields(page.get_data(as_text=True))
    data |= {"enterprise": "SG2018-001", "content": "该企业近三年发生过一次重大质量事故，申报材料未如实说明。",
             "name": "王小明", "phone": "13912345678", "website": ""}
    data |= values
    return data
