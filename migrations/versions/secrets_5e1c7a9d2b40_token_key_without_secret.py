"""the shared access token's row is keyed by a hash, not by the secret's first characters

Revision ID: 5e1c7a9d2b40
Revises: a121edb876cf
Create Date: 2026-11-30 16:30:00

Rows keyed the old way ("corp_id:" + secret[:10]) are deleted: the client fetches a new token and
stores it under `sha256:…` (bot/wecom/client.py token_key). Error texts stored before the client
scrubbed them (`outbox_message.last_error` with a request URL carrying `corpsecret=` or
`access_token=`) lose their query strings. On SQLite the old bytes are overwritten (secure_delete),
so they do not linger in free pages.
"""
import re

import sqlalchemy as sa
from alembic import op

# The same rules as bot.wecom.client.scrub (a migration does not import the application).
_URL_QUERY = re.compile(r"(?i)((?:https?://[^\s?'\"]*|/cgi-bin/[^\s?'\"]*)\?)[^\s'\")]*")
_SECRET_PARAM = re.compile(r"(?i)\b(corpsecret|secret|access_token|token|code|encoding_aes_key)"
                           r"(=|%3D|'\s*:\s*'|\"\s*:\s*\")[^&\s'\")]*")


revision = '5e1c7a9d2b40'
down_revision = 'a121edb876cf'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA secure_delete = ON")
    op.execute("DELETE FROM wecom_token WHERE key NOT LIKE 'sha256:%'")
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, last_error FROM outbox_message WHERE last_error LIKE '%secret%' "
                                "OR last_error LIKE '%token%' OR last_error LIKE '%?%'")).all()
    for row_id, error in rows:
        clean = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}***", _URL_QUERY.sub(r"\1***", error))
        if clean != error:
            conn.execute(sa.text("UPDATE outbox_message SET last_error = :e WHERE id = :i"), {"e": clean, "i": row_id})


def downgrade() -> None:
    # Nothing to restore: a token is a cache; the old code fetches a new one under its own key.
    pass
