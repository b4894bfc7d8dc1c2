"""Sealed ballot papers while a round is open (ballot_seal); the member-to-paper HMAC column goes

Revision ID: b7c41e0d9a52
Revises: a121edb876cf
Create Date: 2026-11-30 16:40:00.000000

A round open during the upgrade keeps its plaintext papers (ballot_choice); new casts are sealed and
every paper of the round is rewritten in random order at its close (docs/voting.md, 投票保密).
Ballot changes of members who voted before the upgrade are refused (their paper cannot be found).
"""
from alembic import op
import sqlalchemy as sa


revision = 'b7c41e0d9a52'
down_revision = 'a121edb876cf'
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


def downgrade() -> None:
    with op.batch_alter_table('ballot_participation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper_mac', sa.String(length=64), nullable=True))
    op.drop_table('ballot_seal')
