"""stages 1 and 2 as decisions: the city's approval of the 实施方案; the minutes adopting the 议事规则

Revision ID: a1c2e3f4b5d6
Revises: 4a7e2c9b1d06
Create Date: 2026-12-08 01:40:00
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.base


revision = 'a1c2e3f4b5d6'
down_revision = '4a7e2c9b1d06'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plan_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('edition', sa.String(length=64), nullable=False),
    sa.Column('document_number', sa.String(length=100), nullable=False),
    sa.Column('approved_on', sa.String(length=10), nullable=False),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('recorded_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_approval')),
    sa.UniqueConstraint('edition', name=op.f('uq_plan_approval_edition'))
    )
    with op.batch_alter_table('committee_meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minutes_ref', sa.String(length=200), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('committee_meeting', schema=None) as batch_op:
        batch_op.drop_column('minutes_ref')
    op.drop_table('plan_approval')
