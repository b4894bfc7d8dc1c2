"""the shared access token's row is keyed by a hash, not by the secret's first characters

Revision ID: 5e1c7a9d2b40
Revises: a121edb876cf
Create Date: 2026-11-30 16:30:00

Rows keyed the old way ("corp_id:" + secret[:10]) are deleted: the client fetches a new token and
stores it under `sha256:…` (bot/wecom/client.py token_key). On SQLite the deleted bytes are
overwritten (secure_delete), so the secret's prefix does not linger in free pages.
"""
from alembic import op


revision = '5e1c7a9d2b40'
down_revision = 'a121edb876cf'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA secure_delete = ON")
    op.execute("DELETE FROM wecom_token WHERE key NOT LIKE 'sha256:%'")


def downgrade() -> None:
    # Nothing to restore: a token is a cache; the old code fetches a new one under its own key.
    pass
