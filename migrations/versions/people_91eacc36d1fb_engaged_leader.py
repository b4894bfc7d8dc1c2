"""the engaged expert-group leader: basis, engaged_by, engaged_at on the panel row

Revision ID: 91eacc36d1fb
Revises: b2d3f4a5c6e7
Create Date: 2026-12-08 01:45:00
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.base


revision = '91eacc36d1fb'
down_revision = 'b2d3f4a5c6e7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('expert_panel_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('basis', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('engaged_by', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('engaged_at', workflows.core.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('expert_panel_member', schema=None) as batch_op:
        batch_op.drop_column('engaged_at')
        batch_op.drop_column('engaged_by')
        batch_op.drop_column('basis')
