"""A database reader learns nothing from a cast's size: every sealed row of a round (the paper and the
"已投票" card update waiting in the outbox) has one length, whatever the member chose (issue 22.1)."""
from __future__ import annotations

import dataclasses
import itertools
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.bot.conftest import deliver
from tests.bot.test_voting import card, opts, submit
from tests.workflows.test_voting import MEMBERS, VOTE_TIME, seed
from workflows import voting
from workflows.apply.models import Application
from workflows.core.models import OutboxMessage
from workflows.voting import confirmation, sealing
from workflows.voting.models import Ballot, SealedPaper

# Names of very different lengths: without padding each choice has its own size.
NAMES = ["甲", "乙乙乙乙乙乙乙乙乙乙乙乙乙乙乙乙乙乙乙乙", "丙丙丙丙丙", "丁丁丁丁丁丁丁丁丁丁丁丁", "戊戊"]
CHOICES = list(itertools.combinations(range(5), 3))


@pytest.fixture
def settings(settings):
    """Members may change their paper: three of them cast a second time, so ten papers in all."""
    return settings.with_overrides(award={"rules": {**settings.award.rules.model_dump(), "allow_ballot_change": True}})


def open_round(rt, clock, n=5):
    clock.set(VOTE_TIME)
    with rt.sessions.begin() as s:
        cands = seed(s, rt.settings, clock(), n=len(NAMES))
        for c, name in zip(cands, NAMES):
            s.get(Application, c.application_id).enterprise_name = name
        cands = [dataclasses.replace(c, enterprise_name=n) for c, n in zip(cands, NAMES)]
        b = voting.open_ballot(s, rt.settings, actor="mishu", now=clock(), candidates=cands[:n])
        info = SimpleNamespace(id=b.id, apps=[c.application_id for c in cands])
    deliver(rt)
    return info


def pending_boxes(rt) -> list[int]:
    with rt.sessions() as s:
        return [len(r.data["box"]) for r in s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == voting.VOTED_CARD, OutboxMessage.status == "pending"))]


def paper_lengths(rt, ballot_id) -> set[int]:
    with rt.sessions() as s:
        return {len(p) for p in s.scalars(select(SealedPaper.sealed).where(SealedPaper.ballot_id == ballot_id))}


def test_all_ten_choices_of_three_of_five_are_stored_at_one_size(cb, rt, wecom, clock):
    ballot = open_round(rt, clock)
    for m, pick in zip(MEMBERS, CHOICES[:7]):
        assert submit(cb, wecom, m, opts(card(wecom, m), *pick))[0] == 200
    first = pending_boxes(rt)                       # the seven updates wait (WeCom not yet called)
    assert len(first) == 7
    deliver(rt)
    for m in MEMBERS[:3]:                           # three members change their paper: the last three choices
        cb.send(cb.text(m, "投票"))
    deliver(rt)
    for m, pick in zip(MEMBERS, CHOICES[7:]):
        assert submit(cb, wecom, m, opts(card(wecom, m), *pick))[0] == 200
    second = pending_boxes(rt)
    assert len(second) == 3
    assert len(set(first + second)) == 1, sorted(first + second)
    assert len(paper_lengths(rt, ballot.id)) == 1
    # The members still see their own ticks.
    deliver(rt)
    mine = [u for u in wecom.card_updates() if u["userids"] == [MEMBERS[0]]][-1]["template_card"]
    assert [o["text"] for o in mine["checkbox"]["option_list"] if o["is_checked"]] == [NAMES[i] for i in CHOICES[7]]


def test_a_confirmation_round_stores_every_paper_at_one_size(cb, rt, wecom, clock):
    ballot = open_round(rt, clock, n=3)             # three candidates for three seats: 同意/不同意 on each
    with rt.sessions() as s:
        b = s.get(Ballot, ballot.id)
        assert confirmation.is_confirmation(b.candidates, b.seats)
    for i, m in enumerate(MEMBERS[:4]):             # 同意 on the first i candidates, 不同意 on the rest
        tc = card(wecom, m)
        ids = [o["id"] for o in tc["checkbox"]["option_list"]]
        chosen = [ids[2 * k] if k < i else ids[2 * k + 1] for k in range(3)]
        assert submit(cb, wecom, m, chosen, tc)[0] == 200
    assert len(set(pending_boxes(rt))) == 1
    assert len(paper_lengths(rt, ballot.id)) == 1


def test_paper_size_bounds_every_paper():
    assert sealing.paper_size([7, 12, 1034], confirm=False) == sealing.PAD
    longest = [-a for a in range(1, 200)]
    assert sealing.paper_size(list(range(1, 200)), confirm=True) == 5 * sealing.PAD >= len(str(longest))
