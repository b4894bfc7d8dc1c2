"""Alembic environment: the URL comes from the bot's settings (see bot/migrate.py)."""
from alembic import context


from workflows.tables import Base

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, parent_names):  # noqa: ANN001, ANN201
    """Leave APScheduler's own job table alone (bot/scheduler.py creates it); autogenerate must not drop it."""
    return not (type_ == "table" and name == "apscheduler_jobs")


def run_migrations_online() -> None:
    """Run migrations on the connection handed over by bot.migrate, or on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()
        return
    from sqlalchemy import create_engine
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True,
                          include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
