"""Sealed ballot papers while a round is open (ballot_seal); the member-to-paper HMAC column goes

Revision ID: b7c41e0d9a52
Revises: e7d3a91c0b25
Create Date: 2026-11-30 16:40:00.000000

Papers already stored were written in their members' cast transactions (PostgreSQL's xmin and the
physical order pair them with the member): every round's papers are rewritten here, in one
transaction, in random order, with random paper ids.  Delivered or dead "已投票" card updates are
blanked and vote-card selections left in the inbound log by a crashed handler are redacted.  A round
open during the upgrade keeps its (rewritten) plaintext papers; new casts are sealed and the close
rewrites all of them again.  Members who voted before the upgrade can no longer change their ballot.
Run VACUUM afterwards on PostgreSQL so the old row versions leave the table files too.
"""
import secrets
from collections import defaultdict

from alembic import op
import sqlalchemy as sa


revision = 'b7c41e0d9a52'
down_revision = 'e7d3a91c0b25'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ballot_seal',
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.String(length=64), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_ballot_seal_ballot_id_ballot')),
    sa.PrimaryKeyConstraint('ballot_id', 'slot', name=op.f('pk_ballot_seal')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('ballot_participation', schema=None) as batch_op:
        batch_op.drop_column('paper_mac')
    _unlink_stored_votes(op.get_bind())


def _unlink_stored_votes(bind) -> None:
    choice = sa.table('ballot_choice', sa.column('paper_id', sa.String), sa.column('application_id', sa.Integer),
                      sa.column('ballot_id', sa.Integer))
    papers = defaultdict(list)
    for paper_id, app_id, ballot_id in bind.execute(sa.select(choice.c.paper_id, choice.c.application_id,
                                                              choice.c.ballot_id)):
        papers[(ballot_id, paper_id)].append(app_id)
    groups = list(papers.items())
    secrets.SystemRandom().shuffle(groups)
    bind.execute(choice.delete())
    rows = []
    for (ballot_id, _), apps in groups:
        paper_id = secrets.token_hex(16)
        rows += [{"paper_id": paper_id, "application_id": a, "ballot_id": ballot_id} for a in apps]
    if rows:
        bind.execute(choice.insert(), rows)
    scrubbed = {"scrubbed": True}
    outbox = sa.table('outbox_message', sa.column('kind', sa.String), sa.column('status', sa.String),
                      sa.column('data', sa.JSON), sa.column('payload', sa.JSON))
    bind.execute(outbox.update().where(outbox.c.kind == 'vote.voted', outbox.c.status.in_(('sent', 'dead')))
                 .values(data=scrubbed, payload=scrubbed))
    inbound = sa.table('inbound_callback', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                       sa.column('payload', sa.JSON))
    for row_id, payload in bind.execute(sa.select(inbound.c.id, inbound.c.payload).where(inbound.c.kind == 'card')):
        if (isinstance(payload, dict) and str(payload.get('EventKey') or '').startswith('vote:')
                and payload.get('SelectedItems') not in (None, 'redacted')):
            bind.execute(inbound.update().where(inbound.c.id == row_id)
                         .values(payload={**payload, 'SelectedItems': 'redacted'}))


def downgrade() -> None:
    with op.batch_alter_table('ballot_participation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper_mac', sa.String(length=64), nullable=True))
    op.drop_table('ballot_seal')
