"""the province's pool without userids: a draw key per entry and panel row, userid optional

Revision ID: 1cce6d9b992d
Revises: 91eacc36d1fb
Create Date: 2026-12-08 02:00:00

Existing rows keep their userid as draw key: a draw recorded before ranked userids, so it still verifies.
"""
from alembic import op
import sqlalchemy as sa


revision = '1cce6d9b992d'
down_revision = '91eacc36d1fb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('expert_pool_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draw_key', sa.String(length=320), server_default='', nullable=False))
    op.execute("UPDATE expert_pool_entry SET draw_key = userid")
    with op.batch_alter_table('expert_pool_entry', schema=None) as batch_op:
        batch_op.alter_column('draw_key', server_default=None)
        batch_op.alter_column('userid', existing_type=sa.String(length=128), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_expert_pool_entry_edition_draw_key'), ['edition', 'draw_key'])
    with op.batch_alter_table('expert_panel_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draw_key', sa.String(length=320), server_default='', nullable=False))
    op.execute("UPDATE expert_panel_member SET draw_key = userid WHERE kind <> 'leader'")
    with op.batch_alter_table('expert_panel_member', schema=None) as batch_op:
        batch_op.alter_column('userid', existing_type=sa.String(length=128), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('expert_panel_member', schema=None) as batch_op:
        batch_op.alter_column('userid', existing_type=sa.String(length=128), nullable=False)
        batch_op.drop_column('draw_key')
    with op.batch_alter_table('expert_pool_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_expert_pool_entry_edition_draw_key'), type_='unique')
        batch_op.alter_column('userid', existing_type=sa.String(length=128), nullable=False)
        batch_op.drop_column('draw_key')
