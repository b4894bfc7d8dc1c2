"""why a city department (not the enterprise's own county) recommends the application [seed §三(五)]

Revision ID: d45445275d23
Revises: a9bf903a5cd0
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd45445275d23'
down_revision = 'a9bf903a5cd0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('unit_reason')
