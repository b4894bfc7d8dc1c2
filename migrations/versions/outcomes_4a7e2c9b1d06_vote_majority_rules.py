"""the 议事规则's winning threshold and what follows a shortfall (issue 23.14); a place the city's approval left
out is referred to the committee like one emptied by a complaint (issue 23.11)

Revision ID: 4a7e2c9b1d06
Revises: d45445275d23
Create Date: 2026-12-08 01:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '4a7e2c9b1d06'
down_revision = 'd45445275d23'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('committee_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('majority', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('shortfall', sa.String(length=16), nullable=True))
    with op.batch_alter_table('place_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cause', sa.String(length=16), nullable=True))
        batch_op.alter_column('complaint_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('place_decision', schema=None) as batch_op:
        batch_op.alter_column('complaint_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('cause')
    with op.batch_alter_table('committee_rules', schema=None) as batch_op:
        batch_op.drop_column('shortfall')
        batch_op.drop_column('majority')
