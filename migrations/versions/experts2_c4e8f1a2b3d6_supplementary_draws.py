"""supplementary expert draws

Revision ID: c4e8f1a2b3d6
Revises: b7c1d2e3f4a5
Create Date: 2026-11-30 17:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e8f1a2b3d6'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('expert_draw', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supplements', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('expert_draw', schema=None) as batch_op:
        batch_op.drop_column('supplements')
