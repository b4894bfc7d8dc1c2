"""`edition purge EDITION [--yes]` (issue 22.5): a preview changes nothing, a refusal is one line and changes
nothing, --yes purges; an unknown edition is a bad argument."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.bot.cli_helpers import digest, invoke
from tests.workflows.test_retention import ARCHIVED, END, LATER, fill
from workflows import archive
from workflows.publicity.models import Complaint


def _at(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


def test_edition_purge_refuses_previews_and_purges(rt, tmp_path):
    key = rt.settings.award.edition_key
    with rt.sessions.begin() as s:
        fill(s, rt.settings)
    before = digest(rt.engine)
    refused = invoke(rt, "edition", "purge", key, "--yes", "--now", _at(LATER))
    assert refused.exit_code == 1 and "retention_not_archived" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and digest(rt.engine) == before
    with rt.sessions.begin() as s:
        archive.export(s, rt.settings, actor="cli", now=ARCHIVED, out=tmp_path / "a.zip")
    before = digest(rt.engine)
    early = invoke(rt, "edition", "purge", key, "--yes", "--now", _at(END + dt.timedelta(days=30)))
    assert early.exit_code == 1 and "retention_too_early" in early.stderr and digest(rt.engine) == before
    preview = invoke(rt, "edition", "purge", key, "--now", _at(LATER))
    assert preview.exit_code == 0 and "complainants: 2" in preview.stdout and "nothing changed" in preview.stdout
    assert digest(rt.engine) == before
    done = invoke(rt, "edition", "purge", key, "--yes", "--now", _at(LATER))
    assert done.exit_code == 0 and "purged" in done.stdout
    with rt.sessions() as s:
        assert {c.real_name for c in s.scalars(select(Complaint))} == {None}
    unknown = invoke(rt, "edition", "purge", "no-such-edition", "--now", _at(LATER))
    assert unknown.exit_code == 2 and len(unknown.stderr.strip().splitlines()) == 1
