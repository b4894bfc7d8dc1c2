"""comments with scores (issue 25.1): the reason for an item scored far from the other experts'

Revision ID: 329adeb48c0e
Revises: 2ca5271bd5d6
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '329adeb48c0e'
down_revision = '2ca5271bd5d6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('score_sheet', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reasons', sa.JSON(), server_default='{}', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('score_sheet', schema=None) as batch_op:
        batch_op.drop_column('reasons')
