"""Every table says which edition its rows belong to, and the database keeps a row's edition its application's."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workflows.apply.models import Application, Document
from workflows.scoring.models import Assignment
from workflows.tables import SHARED_TABLES, Base, edition_filter

from ..conftest import T0


def test_every_table_is_an_editions_or_the_deployments():
    undecided = [t.name for t in Base.metadata.sorted_tables
                 if t.name not in SHARED_TABLES and edition_filter(t, "x") is None]
    assert undecided == []   # a new table: give it an edition column, a parent that has one, or list it as shared
    shared_with_edition = [name for name in SHARED_TABLES if "edition" in Base.metadata.tables[name].c]
    assert shared_with_edition == []


def test_every_foreign_key_to_an_application_includes_the_edition():
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            if fk.referred_table.name == "application":
                assert [c.name for c in fk.columns][1:] == ["edition"], (table.name, fk.name)


def two_applications(s) -> tuple[Application, Application]:
    apps = (Application(edition="shaoguan-2018", applicant="qiye1", created_at=T0, updated_at=T0),
            Application(edition="shaoguan-2019", applicant="qiye1", created_at=T0, updated_at=T0))
    s.add_all(apps)
    s.flush()
    return apps


@pytest.mark.parametrize("make", [
    lambda app, edition: Document(edition=edition, application_id=app.id, item_key="form", sha256="0" * 64, size=1,
                                  kind="pdf", original_name="a.pdf", source="page", uploaded_by="qiye1",
                                  uploaded_at=T0),
    lambda app, edition: Assignment(edition=edition, phase="material", application_id=app.id, expert="e1",
                                    assigned_by="mishu", assigned_at=T0),
])
def test_a_row_cannot_claim_another_edition_than_its_applications(sessions, make):
    with sessions.begin() as s:
        first, _ = two_applications(s)
        s.add(make(first, "shaoguan-2018"))
    with pytest.raises(IntegrityError), sessions.begin() as s:
        first = s.scalar(select(Application).where(Application.edition == "shaoguan-2018"))
        s.add(make(first, "shaoguan-2019"))
        s.flush()
