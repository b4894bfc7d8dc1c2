"""Sealed ballot papers: nothing readable while open, one shuffled transaction at close, the key shredded after commit."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from tests.workflows.test_voting import MEMBERS, VOTE_TIME, cast, seed, stored, vote_all
from workflows import voting
from workflows.core import audit, sealed, stages
from workflows.core.models import OutboxMessage
from workflows.voting import sealing
from workflows.voting.models import Ballot, Choice, Participation, SealedPaper


def key_file(settings, ballot_id):
    return sealed.key_path(settings, sealing.key_name(ballot_id))


def allowing_change(settings):
    return settings.with_overrides(award={"rules": {**settings.award.rules.model_dump(), "allow_ballot_change": True}})


@pytest.fixture
def vote(sessions, settings, clock):
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, settings, clock())
        ballot = voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        return {"ballot_id": ballot.id, "apps": [c.application_id for c in cands]}


def test_opening_a_round_writes_its_key_file_outside_the_database(sessions, settings, vote):
    path = key_file(settings, vote["ballot_id"])
    assert path.is_file() and len(path.read_bytes()) == sealed.KEY_BYTES
    assert path.stat().st_mode & 0o077 == 0                                   # owner only
    assert path.parent == sealed.keys_dir(settings) and path.parent.name == "keys"   # beside the uploads


def test_a_cast_paper_is_sealed_unreadable_and_unlinkable_while_open(sessions, settings, clock, vote):
    a, b, c, d, e = vote["apps"]
    vote_all(sessions, settings, clock, {"weiyuan1": [a, b, c], "weiyuan2": [c, d, e], "weiyuan3": [a, d, e]})
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Choice)) == 0         # no plaintext paper while open
        seals = list(s.scalars(select(SealedPaper)))
        assert len(seals) == 3 and len({len(x.sealed) for x in seals}) == 1      # same length whatever was chosen
        members = {p.member for p in s.scalars(select(Participation))}
        for x in seals:
            assert x.slot not in members and not any(m in x.slot for m in members)
            assert not any(json.dumps(p).encode() in x.sealed for p in ([a, b, c], [c, d, e], [a, d, e]))
        # With the round's key (the key file), each member's paper is found and opened.
        key = sealing.round_key(settings, vote["ballot_id"])
        mine = sealing.find(s, vote["ballot_id"], sealing.slot(key, vote["ballot_id"], "weiyuan2"))
        assert sealing.open_paper(key, vote["ballot_id"], mine.slot, mine.sealed) == [c, d, e]
        assert stored(s, settings) == sorted([[a, b, c], [c, d, e], [a, d, e]])
        # A sealed paper opens only where it was filed: copied to another slot it is refused.
        other = next(x for x in seals if x.slot != mine.slot)
        with pytest.raises(sealed.SealBroken):
            sealing.open_paper(key, vote["ballot_id"], other.slot, mine.sealed)


def test_the_voted_card_update_is_marked_for_sealing(sessions, settings, clock, vote):
    cast(sessions, settings, clock, "weiyuan2", vote["apps"][:3])
    with sessions() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == voting.VOTED_CARD))
        assert row.data["_sealed"] == sealing.key_name(vote["ballot_id"])    # bot/outbox.py encrypts it at flush


def test_a_changed_ballot_replaces_the_sealed_paper_in_place(sessions, settings, clock):
    allow = allowing_change(settings)
    clock.set(VOTE_TIME)
    with sessions.begin() as s:
        cands = seed(s, allow, clock())
        bid = voting.open_ballot(s, allow, actor="mishu", now=clock(), candidates=cands).id
    a, b, c, d, e = [x.application_id for x in cands]
    assert cast(sessions, allow, clock, "weiyuan2", [a, b, c]).status == "recorded"
    with sessions() as s:
        before = s.scalar(select(SealedPaper))
        slot, blob = before.slot, before.sealed
    with sessions.begin() as s:
        voting.reissue_card(s, allow, actor="weiyuan2", now=clock())
    assert cast(sessions, allow, clock, "weiyuan2", [c, d, e]).status == "replaced"
    with sessions() as s:
        [after] = s.scalars(select(SealedPaper))
        assert after.slot == slot and after.sealed != blob                        # same slot, fresh ciphertext
        assert stored(s, allow, bid) == [[c, d, e]]
        assert s.scalar(select(Participation.changes).where(Participation.member == "weiyuan2")) == 1


def test_without_change_a_second_card_cannot_add_a_second_paper(sessions, settings, clock, vote):
    apps = vote["apps"]
    assert cast(sessions, settings, clock, "weiyuan2", apps[:3]).status == "recorded"
    with sessions.begin() as s:
        assert voting.reissue_card(s, settings, actor="weiyuan2", now=clock()) == []   # no fresh card
    assert cast(sessions, settings, clock, "weiyuan2", apps[2:]).status == "already_voted"
    with sessions() as s:
        assert stored(s, settings) == [apps[:3]]


def test_close_opens_every_paper_in_one_shuffled_batch_and_shreds_the_key_after_commit(
        sessions, settings, clock, vote, monkeypatch):
    a, b, c, d, e = vote["apps"]
    plan = {m: [[a, b, c], [a, b, c], [a, b, c], [a, b, d], [a, c, e], [b, d, e], [a, d, e]][i]
            for i, m in enumerate(MEMBERS)}
    vote_all(sessions, settings, clock, plan)
    shuffled = []
    monkeypatch.setattr(sealing._rng, "shuffle", lambda papers: (papers.reverse(), shuffled.extend(papers)))
    path = key_file(settings, vote["ballot_id"])
    with sessions.begin() as s:
        assert voting.close_ballot(s, settings, actor="mishu", now=clock()).outcome == "decided"
        assert path.is_file()                                       # not before the close has committed
    assert not path.exists()                                        # shredded once committed
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(SealedPaper)) == 0
        assert stored(s, settings) == sorted(sorted(p) for p in plan.values())
        assert len(shuffled) == 7
        # Paper ids are random, not derived from the casting order or the member.
        ids = list(s.scalars(select(Choice.paper_id).distinct()))
        assert len(ids) == 7 and all(len(i) == 32 for i in ids)
        assert [r.ok for r in voting.verify(s, settings)] == [True]    # the re-count needs no key


def test_a_rolled_back_close_keeps_the_key_and_the_sealed_papers(sessions, settings, clock, vote):
    vote_all(sessions, settings, clock, {m: vote["apps"][:3] for m in MEMBERS})
    path = key_file(settings, vote["ballot_id"])
    with sessions() as s:
        voting.close_ballot(s, settings, actor="mishu", now=clock())
        s.rollback()
        assert path.is_file()
        s.get(Ballot, vote["ballot_id"]).closes_at += dt.timedelta(minutes=1)   # the same session commits later
        s.commit()
    assert path.is_file()
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(SealedPaper)) == 7
        assert len(stored(s, settings)) == 7


def test_no_quorum_keeps_papers_sealed_for_the_extension(sessions, settings, clock, vote):
    a, b, c, d, e = vote["apps"]
    vote_all(sessions, settings, clock, {m: [a, b, c] for m in MEMBERS[:4]})
    path = key_file(settings, vote["ballot_id"])
    with sessions() as s:
        clock.set(stages.deadline(s, settings, "vote") + dt.timedelta(seconds=1))
    with sessions.begin() as s:
        assert voting.close_due(s, settings, now=clock())[0].outcome == "no_quorum"
    assert path.is_file()
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(SealedPaper)) == 4
        assert s.scalar(select(func.count()).select_from(Choice)) == 0
    with sessions.begin() as s:
        voting.extend_ballot(s, settings, actor="mishu", now=clock(), closes_at=clock() + dt.timedelta(days=2))
    vote_all(sessions, settings, clock, {"weiyuan5": [a, b, d], "weiyuan6": [a, b, d]})
    clock.advance(days=3)
    with sessions.begin() as s:
        assert voting.close_due(s, settings, now=clock())[0].outcome == "decided"
    assert not path.exists()
    with sessions() as s:
        # All six papers were written together: the four before the first close are not told apart.
        assert stored(s, settings) == sorted([[a, b, c]] * 4 + [[a, b, d]] * 2)
        assert s.scalar(select(func.count()).select_from(SealedPaper)) == 0


def test_a_new_vote_after_no_quorum_opens_the_old_papers_and_shreds_their_key(sessions, settings, clock, vote):
    vote_all(sessions, settings, clock, {m: vote["apps"][:3] for m in MEMBERS[:2]})
    old = key_file(settings, vote["ballot_id"])
    with sessions() as s:
        clock.set(stages.deadline(s, settings, "vote") - dt.timedelta(hours=1))
    with sessions.begin() as s:
        clock.advance(hours=2)
        stages.extend(s, settings, "vote", clock() + dt.timedelta(days=3), actor="mishu", now=clock())
        voting.close_due(s, settings, now=clock())
    assert old.is_file()
    with sessions.begin() as s:
        cands = [voting.CandidateInfo(a, f"企业{a}") for a in vote["apps"]]
        again = voting.open_ballot(s, settings, actor="mishu", now=clock(), candidates=cands)
        new = key_file(settings, again.id)
    assert not old.exists() and new.is_file()
    with sessions() as s:
        assert stored(s, settings, vote["ballot_id"]) == [vote["apps"][:3]] * 2
        assert s.scalar(select(func.count()).select_from(SealedPaper)) == 0


def test_the_sweep_shreds_a_key_a_crash_left_behind(sessions, settings, clock, vote):
    vote_all(sessions, settings, clock, {m: vote["apps"][:3] for m in MEMBERS})
    path = key_file(settings, vote["ballot_id"])
    leftover = path.read_bytes()
    with sessions.begin() as s:
        voting.close_ballot(s, settings, actor="mishu", now=clock())
    path.write_bytes(leftover)                                     # as if the process died before shredding
    with sessions.begin() as s:
        voting.close_due(s, settings, now=clock())
        assert path.is_file()
    assert not path.exists()


def test_a_lost_key_file_stops_casting_rather_than_storing_plaintext(sessions, settings, clock, vote):
    key_file(settings, vote["ballot_id"]).unlink()
    assert cast(sessions, settings, clock, "weiyuan2", vote["apps"][:3]).status == "sealing_unavailable"
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(SealedPaper)) == 0
        assert s.scalar(select(func.count()).select_from(Choice)) == 0
        assert s.scalar(select(Participation.voted_at).where(Participation.member == "weiyuan2")) is None
        [refusal] = audit.entries(s, action="vote.refused")
        assert refusal.details["reason"] == "sealing_unavailable"


def test_scrub_blanks_voted_cards_in_every_finished_state_and_close_cancels_waiting_ones(sessions, settings, clock,
                                                                                        vote):
    for m in MEMBERS[:4]:
        cast(sessions, settings, clock, m, vote["apps"][:3])
    with sessions.begin() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == voting.VOTED_CARD)
                              .order_by(OutboxMessage.id)))
        rows[0].status, rows[1].status, rows[2].status = "sent", "dead", "sending"
        assert voting.scrub_receipts(s) == 2
        assert voting.scrub_receipts(s) == 0                      # already blank
    with sessions.begin() as s:
        for m in MEMBERS[4:]:
            cast(sessions, settings, clock, m, vote["apps"][:3])
    with sessions.begin() as s:
        voting.close_ballot(s, settings, actor="mishu", now=clock())
    with sessions() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == voting.VOTED_CARD)))
        assert len(rows) == 7 and all(r.data == {"scrubbed": True} == r.payload for r in rows)
        assert sorted(r.status for r in rows) == ["cancelled"] * 5 + ["dead", "sent"]
        assert not any("企业" in json.dumps(r.data, ensure_ascii=False) for r in rows)


def test_sealed_values_and_keys(tmp_path, settings):
    s = settings.with_overrides(storage={"dir": str(tmp_path / "up"), "keys_dir": str(tmp_path / "k")})
    sealed.create_key(s, "ballot-9")
    key = sealed.load_key(s, "ballot-9")
    box = sealed.encrypt(key, b"hello", "here")
    assert sealed.decrypt(key, box, "here") == b"hello" and b"hello" not in box
    with pytest.raises(sealed.SealBroken):
        sealed.decrypt(key, box, "elsewhere")
    with pytest.raises(sealed.SealBroken):
        sealed.decrypt(key, box[:-1] + bytes([box[-1] ^ 1]), "here")
    assert sealed.key_names(s) == ["ballot-9"]
    assert sealed.shred(sealed.key_path(s, "ballot-9")) and sealed.key_names(s) == []
    assert not sealed.shred(sealed.key_path(s, "ballot-9"))
    with pytest.raises(sealed.KeyUnavailable):
        sealed.load_key(s, "ballot-9")
    with pytest.raises(ValueError):
        sealed.key_path(s, "../etc/passwd")


def test_a_round_without_quorum_is_not_counted_so_an_extension_cannot_be_differenced(sessions, settings, clock, vote):
    a, b, c, d, e = vote["apps"]
    vote_all(sessions, settings, clock, {m: [a, b, c] for m in MEMBERS[:4]})
    with sessions() as s:
        clock.set(stages.deadline(s, settings, "vote") + dt.timedelta(seconds=1))
    with sessions.begin() as s:
        voting.close_due(s, settings, now=clock())
        ballot = s.get(Ballot, vote["ballot_id"])
        assert ballot.status == "no_quorum" and "counts" not in ballot.result
        assert audit.entries(s, action="vote.tally")[-1].details["counts"] is None
        [result] = [r for r in s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "vote.result"))
                    if r.recipient == "mishu"]
        assert all(c["votes"] is None for c in result.data["rounds"][0]["candidates"])
        assert voting.verify(s, settings) == []
    with sessions.begin() as s:
        voting.extend_ballot(s, settings, actor="mishu", now=clock(), closes_at=clock() + dt.timedelta(days=2))
    vote_all(sessions, settings, clock, {"weiyuan5": [a, d, e]})         # one late voter
    clock.advance(days=3)
    with sessions.begin() as s:
        assert voting.close_due(s, settings, now=clock())[0].outcome == "decided"
        # The only counts ever recorded are the final ones: no earlier total to subtract from them.
        counted = [e.details["counts"] for e in audit.entries(s, action="vote.tally") if e.details["counts"]]
        assert len(counted) == 1 and sum(counted[0].values()) == 15
