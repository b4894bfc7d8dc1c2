"""the per-channel publication log of the public notice and the award announcement; plaque and certificate issue

Revision ID: b2d3f4a5c6e7
Revises: a1c2e3f4b5d6
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.base


revision = 'b2d3f4a5c6e7'
down_revision = 'a1c2e3f4b5d6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notice_publication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('edition', sa.String(length=64), nullable=False),
    sa.Column('what', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('recorded_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_publication'))
    )
    with op.batch_alter_table('notice_publication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_publication_edition'), ['edition'], unique=False)
    with op.batch_alter_table('award_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plaque_issued_on', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('certificate_issued_on', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('award_record', schema=None) as batch_op:
        batch_op.drop_column('certificate_issued_on')
        batch_op.drop_column('plaque_issued_on')
    with op.batch_alter_table('notice_publication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_publication_edition'))
    op.drop_table('notice_publication')
