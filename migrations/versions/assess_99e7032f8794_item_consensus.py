"""consensus per item (issue 25.2): the group's agreed score, strengths, opportunities and reason per item

Revision ID: 99e7032f8794
Revises: 329adeb48c0e
Create Date: 2026-12-08 02:10:00
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.base


revision = '99e7032f8794'
down_revision = '329adeb48c0e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('item_consensus',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('edition', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=16), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('strengths', sa.Text(), nullable=False),
    sa.Column('opportunities', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('recorded_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id', 'edition'], ['application.id', 'application.edition'],
                            name=op.f('fk_item_consensus_application_id_application')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_consensus')),
    sa.UniqueConstraint('phase', 'application_id', 'item_key',
                        name=op.f('uq_item_consensus_phase_application_id_item_key'))
    )
    with op.batch_alter_table('item_consensus', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_consensus_edition'), ['edition'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('item_consensus', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_consensus_edition'))
    op.drop_table('item_consensus')
