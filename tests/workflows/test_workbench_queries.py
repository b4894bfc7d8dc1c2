"""Read-only queries the workbench stands on: application search and counts (no Flask)."""
from __future__ import annotations

import datetime as dt

from workflows import apply
from workflows.apply.models import Application

T = dt.datetime(2018, 10, 20, 2, 0, tzinfo=dt.timezone.utc)


def _add(s, settings, n: int, **kw) -> Application:
    app = Application(edition=settings.award.edition_key, applicant=f"u{n}", number=f"SG2018-{n:03d}",
                      created_at=T, updated_at=T, eligibility={}, **kw)
    s.add(app)
    return app


def test_search_by_status_unit_industry_and_text(sessions, settings):
    with sessions.begin() as s:
        _add(s, settings, 1, enterprise_name="韶关市武江精工有限公司", credit_code="91440203MA4UABC1X1",
             region_code="440203", industry="制造业", status="accepted")
        _add(s, settings, 2, enterprise_name="韶关丹霞食品有限公司", department="市工业和信息化局",
             industry="食品", status="submitted")
        s.add(Application(edition="another-edition", applicant="u9", number="XX-001", enterprise_name="韶关其他",
                          created_at=T, updated_at=T, eligibility={}))
    with sessions() as s:
        def numbers(**kw):
            return [a.number for a in apply.search(s, settings, **kw)]
        assert numbers() == ["SG2018-001", "SG2018-002"]
        assert numbers(status="submitted") == ["SG2018-002"]
        assert numbers(unit="440203") == ["SG2018-001"]
        assert numbers(unit="市工业和信息化局") == ["SG2018-002"]
        assert numbers(industry="食品") == ["SG2018-002"]
        assert numbers(text="丹霞") == ["SG2018-002"]
        assert numbers(text="sg2018-001") == ["SG2018-001"]
        assert numbers(text="91440203ma4uabc1x1") == ["SG2018-001"]
        assert numbers(text="%") == [] and numbers(text="_") == []
        assert numbers(only=[]) == []
        assert apply.status_counts(s, settings) == {"accepted": 1, "submitted": 1}
