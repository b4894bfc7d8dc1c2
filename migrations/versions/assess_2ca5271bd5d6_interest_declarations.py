"""conflict-of-interest declarations per assignment (利益冲突声明, issue 25.4)

Revision ID: 2ca5271bd5d6
Revises: c86ef4e4135c
Create Date: 2026-12-08 01:45:00
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.base


revision = '2ca5271bd5d6'
down_revision = 'c86ef4e4135c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interest_declaration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('edition', sa.String(length=64), nullable=False),
    sa.Column('expert', sa.String(length=128), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('declared_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id', 'edition'], ['application.id', 'application.edition'],
                            name=op.f('fk_interest_declaration_application_id_application')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_declaration')),
    sa.UniqueConstraint('expert', 'application_id', name=op.f('uq_interest_declaration_expert_application_id'))
    )
    with op.batch_alter_table('interest_declaration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interest_declaration_edition'), ['edition'], unique=False)
        batch_op.create_index(batch_op.f('ix_interest_declaration_expert'), ['expert'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('interest_declaration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interest_declaration_expert'))
        batch_op.drop_index(batch_op.f('ix_interest_declaration_edition'))
    op.drop_table('interest_declaration')
