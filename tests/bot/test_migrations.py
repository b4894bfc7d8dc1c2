"""`db upgrade` builds exactly the schema the models describe (no forgotten migration)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.migrate import downgrade, upgrade
from workflows.core.db import make_engine
from workflows.tables import Base

from ..conftest import reset_database


def test_upgrade_head_matches_the_models(settings):
    engine = make_engine(settings.database.url)
    reset_database(engine)
    upgrade(engine)
    upgrade(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ignored = {"apscheduler_jobs"}
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name in ignored)]
    assert diff == []
    assert "outbox_message" in inspect(engine).get_table_names()
    engine.dispose()


def test_upgrading_a_single_edition_database_gives_its_rows_their_edition(settings):
    """Rows written before editions were carried get their application's edition; numbers keep counting."""
    from sqlalchemy import text

    engine = make_engine(settings.database.url)
    reset_database(engine)
    upgrade(engine, "070b9b09291f")
    t = "2018-10-20 02:00:00"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO application (id, edition, number, applicant, status, eligibility, created_at, "
                          "updated_at, round) VALUES (1, 'shaoguan-2018', 'SG2018-001', 'qiye1', 'accepted', '{}', "
                          f"'{t}', '{t}', 1), (2, 'shaoguan-2018', 'SG2018-002', 'qiye2', 'accepted', '{{}}', "
                          f"'{t}', '{t}', 1)"))
        conn.execute(text("INSERT INTO document (id, application_id, item_key, sha256, size, kind, original_name, "
                          "source, status, uploaded_by, uploaded_at) VALUES (1, 2, 'form', :sha, 1, 'pdf', 'a.pdf', "
                          f"'page', 'received', 'qiye2', '{t}')"), {"sha": "0" * 64})
        conn.execute(text("INSERT INTO expert_assignment (id, phase, application_id, expert, assigned_by, assigned_at) "
                          f"VALUES (1, 'material', 1, 'e1', 'mishu', '{t}')"))
        conn.execute(text("INSERT INTO stage_state (edition, stage, status, opened_at) "
                          f"VALUES ('shaoguan-2018', 'apply', 'open', '{t}')"))
        conn.execute(text("INSERT INTO reminder_sent (id, deadline_key, \"offset\", recipient, due_at, sent_at) "
                          f"VALUES (1, 'apply:x', '7d', 'qiye1', '{t}', '{t}')"))
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT edition FROM document")).scalar_one() == "shaoguan-2018"
        assert conn.execute(text("SELECT edition FROM expert_assignment")).scalar_one() == "shaoguan-2018"
        assert conn.execute(text("SELECT edition FROM reminder_sent")).scalar_one() == "shaoguan-2018"
        assert conn.execute(text("SELECT edition, kind, issued FROM number_counter")).all() == [
            ("shaoguan-2018", "application", 2)]
    downgrade(engine, "070b9b09291f")  # and back: the rows survive without their edition column
    with engine.connect() as conn:
        assert conn.execute(text("SELECT application_id FROM document")).scalar_one() == 2
    upgrade(engine)
    engine.dispose()


def test_upgrading_unlinks_stored_votes_from_their_members(settings):
    """Papers written in cast transactions are rewritten together; stored choices elsewhere are blanked."""
    import json

    from sqlalchemy import text

    engine = make_engine(settings.database.url)
    reset_database(engine)
    upgrade(engine, "a121edb876cf")
    t = "2019-01-22 02:00:00"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ballot (id, edition, series_id, round_no, seats, candidates, status, opened_by, "
                          f"opened_at, closes_at) VALUES (1, 'e', 1, 1, 1, '[]', 'closed', 'mishu', '{t}', '{t}')"))
    for paper, apps in (("aaaa", (1, 2)), ("bbbb", (2, 3)), ("cccc", (1, 3))):   # one cast transaction each
        with engine.begin() as conn:
            for a in apps:
                conn.execute(text("INSERT INTO ballot_choice (paper_id, application_id, ballot_id) "
                                  "VALUES (:p, :a, 1)"), {"p": paper, "a": a})
    voted = json.dumps({"chosen": ["企业甲"]}, ensure_ascii=False)
    selected = json.dumps({"EventKey": "vote:submit:1", "SelectedItems": {"SelectedItem": {"OptionIds": "app-1"}}})
    other = json.dumps({"EventKey": "review:items:1", "SelectedItems": {"SelectedItem": {"OptionIds": "x"}}})
    with engine.begin() as conn:
        for i, status in enumerate(("sent", "dead", "pending"), start=1):
            conn.execute(text("INSERT INTO outbox_message (id, recipient, kind, data, action, payload, status, attempts, "
                              "next_attempt_at, created_at) VALUES (:i, 'weiyuan1', 'vote.voted', :d, 'update_card', "
                              f":d, :s, 0, '{t}', '{t}')"), {"i": i, "d": voted, "s": status})
        for i, payload in ((1, selected), (2, other)):
            conn.execute(text("INSERT INTO inbound_callback (id, dedupe_key, userid, kind, payload, received_at, status) "
                              f"VALUES (:i, :k, 'weiyuan1', 'card', :p, '{t}', 'error')"),
                         {"i": i, "k": f"evt:{i}", "p": payload})
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT paper_id, application_id FROM ballot_choice")).all()
        papers: dict[str, list[int]] = {}
        for paper, app in rows:
            papers.setdefault(paper, []).append(app)
        assert sorted(sorted(v) for v in papers.values()) == [[1, 2], [1, 3], [2, 3]]
        assert not set(papers) & {"aaaa", "bbbb", "cccc"} and all(len(p) == 32 for p in papers)
        if engine.dialect.name == "postgresql":
            assert conn.execute(text("SELECT count(DISTINCT xmin::text) FROM ballot_choice")).scalar_one() == 1
        outbox = dict(conn.execute(text("SELECT status, data FROM outbox_message")).all())
        as_dict = {k: v if isinstance(v, dict) else json.loads(v) for k, v in outbox.items()}
        assert as_dict["sent"] == as_dict["dead"] == {"scrubbed": True} and as_dict["pending"]["chosen"] == ["企业甲"]
        inbound = dict(conn.execute(text("SELECT id, payload FROM inbound_callback")).all())
        inbound = {k: v if isinstance(v, dict) else json.loads(v) for k, v in inbound.items()}
        assert inbound[1]["SelectedItems"] == "redacted" and inbound[2]["SelectedItems"] != "redacted"
    downgrade(engine, "a121edb876cf")
    upgrade(engine)
    engine.dispose()
