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
