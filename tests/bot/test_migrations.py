"""`db upgrade` builds exactly the schema the models describe (no forgotten migration)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.migrate import upgrade
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
