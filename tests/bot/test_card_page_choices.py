"""Issue 22.10: a card page's choice is keyed by its served form and the choice made, not by a one-second time:
a second, different choice in the same second is routed; the same form sent twice is one choice."""
from __future__ import annotations

import re

from sqlalchemy import select

from workflows.core import notices
from workflows.core.models import InboundCallback

MEMBER = "wwlinkedqiye0001/mishu9"
ITEMS = [{"key": "business_license", "name": "营业执照", "flagged": False},
         {"key": "safety_declaration", "name": "无重大事故声明", "flagged": False}]


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    return found.group(1) if found else ""


def test_a_different_choice_in_the_same_second_is_not_dropped(rt, http, clock, monkeypatch):
    with rt.sessions.begin() as s:
        task = notices.send_card(s, MEMBER, "review.select", subject="review-select:1", now=clock(),
                                 app={"id": 1, "enterprise_name": "韶关示范制造有限公司"}, items=ITEMS)
        path = "/card/" + rt.services["links"].card_token(task.task_id, MEMBER)
    html = http.get(path).get_data(as_text=True)
    form = {"csrf": _hidden(html, "csrf"), "n": _hidden(html, "n")}
    routed: list[dict] = []
    monkeypatch.setattr(rt.dispatcher.router, "route", lambda ctx, inbound: routed.append(dict(inbound.selected)))
    for choice in ("business_license", "safety_declaration", "safety_declaration"):   # the clock stands still
        resp = http.post(path, data={**form, "opt": choice})
        assert resp.status_code == 303 and resp.headers["Location"].endswith("?done=1")
    # the second, different choice (the same form, back in the browser) is routed; the double tap of it is not
    assert routed == [{"items": ("business_license",)}, {"items": ("safety_declaration",)}]
    with rt.sessions() as s:
        keys = [r.dedupe_key for r in s.scalars(select(InboundCallback).order_by(InboundCallback.id))]
    assert len(keys) == 2 and len(set(keys)) == 2 and all("business_license" not in k for k in keys)
