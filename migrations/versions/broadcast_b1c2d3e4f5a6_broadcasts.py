"""broadcasts: a notice to a filtered group and its recipients (each with the outbox row that carries it)

Revision ID: b1c2d3e4f5a6
Revises: d5e6f7a8b9c0
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.base


revision = 'b1c2d3e4f5a6'
down_revision = 'd5e6f7a8b9c0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'broadcast',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('edition', sa.String(length=64), nullable=False),
        sa.Column('audience', sa.String(length=32), nullable=False),
        sa.Column('filters', sa.JSON(), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('author', sa.String(length=128), nullable=False),
        sa.Column('created_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('recipients', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_broadcast_edition', 'broadcast', ['edition'], unique=False)
    op.create_table(
        'broadcast_recipient',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('broadcast_id', sa.Integer(), nullable=False),
        sa.Column('userid', sa.String(length=128), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('outbox_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_broadcast_recipient_broadcast_id', 'broadcast_recipient', ['broadcast_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_broadcast_recipient_broadcast_id', table_name='broadcast_recipient')
    op.drop_table('broadcast_recipient')
    op.drop_index('ix_broadcast_edition', table_name='broadcast')
    op.drop_table('broadcast')
