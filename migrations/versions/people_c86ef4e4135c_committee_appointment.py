"""the committee's appointment: who, in which office, by which document, from when; the chair by office

Revision ID: c86ef4e4135c
Revises: 5f6c8bd2156b
Create Date: 2026-12-08 02:10:00
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.base


revision = 'c86ef4e4135c'
down_revision = '5f6c8bd2156b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('committee_appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('edition', sa.String(length=64), nullable=False),
    sa.Column('userid', sa.String(length=128), nullable=False),
    sa.Column('office', sa.String(length=100), nullable=False),
    sa.Column('document', sa.String(length=200), nullable=False),
    sa.Column('effective_from', sa.String(length=10), nullable=False),
    sa.Column('chair', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('recorded_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_appointment')),
    sa.UniqueConstraint('edition', 'userid', name=op.f('uq_committee_appointment_edition_userid'))
    )
    with op.batch_alter_table('committee_appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_appointment_edition'), ['edition'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('committee_appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_appointment_edition'))
    op.drop_table('committee_appointment')
