"""the applicants' feedback reports released in chat (feedback_release)

Revision ID: d3e4f5a6b7c8
Revises: 4f6a8c2e1b3d
Create Date: 2026-12-08 02:20:00
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.base


revision = 'd3e4f5a6b7c8'
down_revision = '4f6a8c2e1b3d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'feedback_release',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('edition', sa.String(length=64), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('released_by', sa.String(length=128), nullable=False),
        sa.Column('released_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['application_id', 'edition'], ['application.id', 'application.edition'],
                                name='fk_feedback_release_application_id_application'),
        sa.PrimaryKeyConstraint('id', name='pk_feedback_release'),
        sa.UniqueConstraint('edition', 'application_id', name='uq_feedback_release_edition_application_id'),
    )


def downgrade() -> None:
    op.drop_table('feedback_release')
