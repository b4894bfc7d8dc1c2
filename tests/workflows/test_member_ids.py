"""One length for a member id everywhere (issue 22.4): a linked-corp member's "CorpID/UserID" fits every column
that holds a member id, so such a member can vote, be declared in conflict, confirm and wait for a stage.
Run with TEST_DATABASE_URL to see PostgreSQL enforce the lengths (SQLite does not)."""
from __future__ import annotations

import re

from sqlalchemy import String, select

from tests.workflows.test_voting import VOTE_TIME, seed
from workflows import voting
from workflows.core import confirmations, people, stages
from workflows.core.models import MEMBER_ID_MAX, Confirmation, StageWaiter
from workflows.tables import Base
from workflows.voting.models import Participation, VoteConflict

LONG = "wwlinkedcorp00001/" + "z" * 48            # a linked-corp member id of 66 characters
MEMBER_COLUMN = re.compile(r"^(userid|member|expert|recipient|applicant|recommender|complainant|leader|actor|by)$"
                           r"|_by$")


def test_every_column_holding_a_member_id_has_one_length():
    found = {(t.name, c.name): c.type.length for t in Base.metadata.sorted_tables for c in t.columns
             if MEMBER_COLUMN.search(c.name) and isinstance(c.type, String)}
    assert len(found) > 40
    assert {k: v for k, v in found.items() if v != MEMBER_ID_MAX} == {}


def test_a_66_character_linked_corp_member_votes_is_declared_confirms_and_waits(sessions, settings, clock):
    assert len(LONG) == 66
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock())
        people.import_roster(s, "userid,name,role,organization,region\n"
                                f"{LONG},委员·互联,committee,市商务局,市直\n", actor="system", now=clock(),
                             replace=False)
        voting.declare_conflict(s, settings, actor="mishu", now=clock(), member=LONG,
                                application=str(cands[0].application_id), reason="亲属任职")
        voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        confirmations.propose(s, userid=LONG, action="visit.confirm", subject="visit:1", params={}, now=clock())
        pending = next(st.key for st in settings.award.stages if stages.status(s, settings, st.key) == "pending")
        stages.promise_notice(s, settings, pending, LONG, now=clock(), word="报名")
    with sessions() as s:
        assert s.scalar(select(Participation.member).where(Participation.member == LONG)) == LONG
        assert s.scalar(select(VoteConflict.member)) == LONG
        assert s.scalar(select(Confirmation.userid)) == LONG
        assert s.scalar(select(StageWaiter.userid)) == LONG
