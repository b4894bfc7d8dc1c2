"""confidentiality pledges of recommenders, committee members and the agency; committee members' own declarations

Revision ID: 5f6c8bd2156b
Revises: 1cce6d9b992d
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.base


revision = '5f6c8bd2156b'
down_revision = '1cce6d9b992d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('confidentiality_pledge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('edition', sa.String(length=64), nullable=False),
    sa.Column('userid', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('asked_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', workflows.core.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confidentiality_pledge')),
    sa.UniqueConstraint('edition', 'userid', name=op.f('uq_confidentiality_pledge_edition_userid'))
    )
    with op.batch_alter_table('confidentiality_pledge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_confidentiality_pledge_edition'), ['edition'], unique=False)
    op.create_table('committee_declaration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('edition', sa.String(length=64), nullable=False),
    sa.Column('member', sa.String(length=128), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('conflicts', sa.JSON(), nullable=False),
    sa.Column('declared_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_declaration')),
    sa.UniqueConstraint('edition', 'member', name=op.f('uq_committee_declaration_edition_member'))
    )
    with op.batch_alter_table('committee_declaration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_declaration_edition'), ['edition'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('committee_declaration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_declaration_edition'))
    op.drop_table('committee_declaration')
    with op.batch_alter_table('confidentiality_pledge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_confidentiality_pledge_edition'))
    op.drop_table('confidentiality_pledge')
