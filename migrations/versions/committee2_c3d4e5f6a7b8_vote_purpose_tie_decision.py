"""vote purpose and context, the committee's tie decision, a place's replacement vote

Revision ID: c3d4e5f6a7b8
Revises: c4e8f1a2b3d6
Create Date: 2026-11-30 17:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c3d4e5f6a7b8'
down_revision = 'c4e8f1a2b3d6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), server_default='award', nullable=False))
        batch_op.add_column(sa.Column('context', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('decision', sa.JSON(), nullable=True))
    with op.batch_alter_table('place_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ballot_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_place_decision_ballot_id_ballot'), 'ballot', ['ballot_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('place_decision', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_place_decision_ballot_id_ballot'), type_='foreignkey')
        batch_op.drop_column('ballot_id')
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_column('decision')
        batch_op.drop_column('context')
        batch_op.drop_column('purpose')
