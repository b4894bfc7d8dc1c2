"""Ballot secrecy against whoever reads the database afterwards: votes cast through the real webhook, then
every way back from a member to a paper is tried — the inbound log, outbox rows in each state, logs, and
on PostgreSQL transaction ids (xmin), physical order (ctid), ids and timestamps."""
from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from tests.conftest import SECRETARIAT
from tests.bot.conftest import deliver, texts
from tests.bot.test_voting import card, opts, submit
from tests.workflows.test_voting import MEMBERS, VOTE_TIME, seed
from workflows import voting
from workflows.core import sealed
from workflows.core.base import Base
from workflows.core.models import InboundCallback, OutboxMessage
from workflows.voting import sealing

# Seven different papers (positions on the card), in casting order weiyuan1 … weiyuan7.
PICKS = [(0, 1, 2), (0, 1, 3), (0, 1, 4), (0, 2, 3), (0, 2, 4), (1, 2, 3), (1, 2, 4)]
# What a stored member choice would look like anywhere in the database.
MARKERS = ('"chosen"', '"is_checked": true', '"checked": true', '"SelectedItem"', "OptionId")


@pytest.fixture
def ballot(rt, clock):
    clock.set(VOTE_TIME)
    with rt.sessions.begin() as s:
        cands = seed(s, rt.settings, clock())
        b = voting.open_ballot(s, rt.settings, actor="mishu", now=clock(), candidates=cands)
        info = SimpleNamespace(id=b.id, apps=[c.application_id for c in cands])
    deliver(rt)
    return info


def dump(rt) -> dict[str, list[str]]:
    """Every row of every table as JSON text (what someone with the database file or a dump can read)."""
    out = {}
    with rt.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out[table.name] = [json.dumps(dict(r._mapping), default=str, ensure_ascii=False)
                               for r in conn.execute(table.select())]
    return out


def vote_in_every_outbox_state(cb, rt, wecom):
    """weiyuan1-5: card update sent; weiyuan6: update dead (WeCom refuses it); weiyuan7: still waiting at close."""
    for m, picks in zip(MEMBERS[:5], PICKS):
        assert submit(cb, wecom, m, opts(card(wecom, m), *picks))[0] == 200
    deliver(rt)
    wecom.fail_next("message/update_template_card", errcode=40003)       # not retryable: the row dies
    submit(cb, wecom, "weiyuan6", opts(card(wecom, "weiyuan6"), *PICKS[5]))
    deliver(rt)
    submit(cb, wecom, "weiyuan7", opts(card(wecom, "weiyuan7"), *PICKS[6]))   # not delivered before close


def test_nothing_stored_or_logged_links_a_member_to_a_paper(cb, rt, wecom, ballot, caplog):
    caplog.set_level(logging.DEBUG)
    vote_in_every_outbox_state(cb, rt, wecom)
    # While open: the waiting "已投票" update is stored sealed, the sent and dead ones are already blank.
    with rt.sessions() as s:
        rows = {r.recipient: r for r in s.scalars(select(OutboxMessage).where(OutboxMessage.kind == voting.VOTED_CARD))}
        assert rows["weiyuan7"].status == "pending" and set(rows["weiyuan7"].data) == {"_sealed", "box"}
        assert rows["weiyuan6"].status == "dead" and rows["weiyuan6"].data == {"scrubbed": True}
        assert all(rows[m].status == "sent" and rows[m].data == {"scrubbed": True} for m in MEMBERS[:5])
    tables = dump(rt)
    assert not [(t, row) for t, rs in tables.items() for row in rs for mark in MARKERS if mark in row]
    assert len(wecom.card_updates()) == 5                                # the members saw their own ticks
    mine = next(u for u in wecom.card_updates() if u["userids"] == ["weiyuan3"])["template_card"]
    assert [o["text"] for o in mine["checkbox"]["option_list"] if o["is_checked"]] == ["企业甲", "企业乙", "企业戊"]

    cb.send(cb.text("mishu", "投票 结束"))
    deliver(rt)
    assert not sealed.has_key(rt.settings, sealing.key_name(ballot.id))   # shredded after the close committed
    with rt.sessions() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == voting.VOTED_CARD)))
        assert sorted(r.status for r in rows) == ["cancelled", "dead"] + ["sent"] * 5
        # No row that ever carried a choice keeps a hash of its body (a guessable hash would give it away).
        secret = [r for r in s.scalars(select(OutboxMessage))
                  if (r.data or {}).get("_sealed") or (r.data or {}).get("scrubbed")]
        assert secret and all(r.body_key is None for r in secret)
        assert all(r.data == {"scrubbed": True} == r.payload for r in rows)
        cards = list(s.scalars(select(InboundCallback).where(InboundCallback.kind == "card")))
        assert len(cards) == 7 and all(c.payload["SelectedItems"] == "redacted" for c in cards)
        assert voting.proposed_winners(s, rt.settings) == [ballot.apps[0], ballot.apps[1], ballot.apps[2]]
    tables = dump(rt)
    assert tables["ballot_seal"] == [] and len(tables["ballot_choice"]) == 21
    assert not [(t, row) for t, rs in tables.items() for row in rs for mark in MARKERS if mark in row]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(mark in logged for mark in MARKERS) and "app-" not in logged


def test_a_handler_crash_still_stores_the_callback_without_the_ticks(cb, rt, wecom, ballot, monkeypatch, caplog):
    def crash(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(voting, "cast_ballot", crash)
    submit(cb, wecom, "weiyuan2", opts(card(wecom, "weiyuan2"), 0, 1, 2))
    deliver(rt)
    with rt.sessions() as s:
        [row] = s.scalars(select(InboundCallback).where(InboundCallback.kind == "card"))
        assert row.status == "error" and row.userid == "weiyuan2"
        assert row.payload["SelectedItems"] == "redacted" and "app-" not in json.dumps(row.payload)
    assert "app-" not in "\n".join(r.getMessage() for r in caplog.records)


def test_a_voted_card_update_after_its_key_is_shredded_dies_blank(rt, cb, wecom, ballot):
    submit(cb, wecom, "weiyuan2", opts(card(wecom, "weiyuan2"), 0, 1, 2))
    sealed.shred(sealed.key_path(rt.settings, sealing.key_name(ballot.id)))
    deliver(rt)
    with rt.sessions() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == voting.VOTED_CARD))
        assert row.status == "dead" and row.data == {"scrubbed": True} == row.payload
    assert wecom.card_updates() == []


def test_a_member_is_told_when_the_key_file_is_missing(rt, cb, wecom, ballot):
    sealed.key_path(rt.settings, sealing.key_name(ballot.id)).unlink()
    submit(cb, wecom, "weiyuan2", opts(card(wecom, "weiyuan2"), 0, 1, 2))
    deliver(rt)
    assert "无法保密记录" in texts(wecom, "weiyuan2")[-1] and SECRETARIAT["phone"] in texts(wecom, "weiyuan2")[-1]
    assert wecom.card_updates() == []


def _pg(rt):
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (set TEST_DATABASE_URL)")


def test_postgres_transaction_ids_physical_order_ids_and_times_do_not_pair_members_with_papers(
        cb, rt, wecom, ballot, monkeypatch):
    _pg(rt)
    shuffled: list[list[int]] = []
    real_shuffle = sealing._rng.shuffle
    monkeypatch.setattr(sealing._rng, "shuffle", lambda papers: (real_shuffle(papers), shuffled.extend(papers)))
    vote_in_every_outbox_state(cb, rt, wecom)
    with rt.engine.connect() as c:
        # While open, a sealed paper does share its transaction with the member's rows — and it is ciphertext.
        cast_xids = {r.actor: r.x for r in c.execute(text(
            "SELECT actor, xmin::text AS x FROM audit_entry WHERE action = 'vote.cast'"))}
        seal_xids = {r.x: r.sealed for r in c.execute(text("SELECT xmin::text AS x, sealed FROM ballot_seal"))}
        assert set(cast_xids.values()) == set(seal_xids)
        assert len({len(v) for v in seal_xids.values()}) == 1
    cb.send(cb.text("mishu", "投票 结束"))
    deliver(rt)
    with rt.engine.connect() as c:
        choice = list(c.execute(text("SELECT xmin::text AS x, ctid::text AS t, paper_id, application_id "
                                     "FROM ballot_choice ORDER BY ctid")))
        # 1. Transaction ids: every paper was written by the one closing transaction, none by a cast.
        assert len(choice) == 21 and len({r.x for r in choice}) == 1
        close_xid = choice[0].x
        assert close_xid not in cast_xids.values()
        # Rows that share the closing transaction (the secretariat's command, the result to the chair, a
        # cancelled card update) share it with all seven papers alike: none is paired with one paper.
        shared = {r.a for r in c.execute(text("SELECT action AS a FROM audit_entry WHERE xmin::text = :x"),
                                         {"x": close_xid})}
        assert "vote.cast" not in shared and {"vote.close", "vote.tally"} <= shared
        assert not list(c.execute(text("SELECT 1 FROM ballot_seal")))
        # 2. Physical order: papers lie in the order of the close's random shuffle, not the casting order.
        order: list[str] = []
        for r in choice:
            if r.paper_id not in order:
                order.append(r.paper_id)
        by_paper: dict[str, list[int]] = {}
        for r in choice:
            by_paper.setdefault(r.paper_id, []).append(r.application_id)
        assert [sorted(by_paper[p]) for p in order] == [sorted(p) for p in shuffled]
        # 3. Ids and 4. timestamps: the paper tables have neither a sequence nor a time column.
        cols = list(c.execute(text(
            "SELECT table_name, column_name, data_type, column_default FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name IN ('ballot_choice', 'ballot_seal')")))
        assert not [col for col in cols if "nextval" in (col.column_default or "") or "time" in col.data_type
                    or col.data_type in ("integer", "bigint") and col.column_name not in ("ballot_id", "application_id")]
        assert all(len(p) == 32 for p in by_paper)                     # random hex, not a counter
        # 5. The transaction of each member's cast touched nothing that still holds a choice.
        for member, xid in cast_xids.items():
            for table in ("ballot_choice", "ballot_seal"):
                assert not list(c.execute(text(f"SELECT 1 FROM {table} WHERE xmin::text = :x"), {"x": xid})), member
            rows = [json.dumps(dict(r._mapping), default=str) for r in c.execute(text(
                "SELECT data, payload FROM outbox_message WHERE xmin::text = :x"), {"x": xid})]
            assert not [r for r in rows for mark in MARKERS if mark in r], member
