"""the winners' numbered 证书 (award_certificate)

Revision ID: c2d3e4f5a6b7
Revises: b1c2d3e4f5a6
Create Date: 2026-12-08 02:20:00
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.base


revision = 'c2d3e4f5a6b7'
down_revision = 'b1c2d3e4f5a6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'award_certificate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('edition', sa.String(length=64), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('issued_on', sa.String(length=10), nullable=False),
        sa.Column('issued_by', sa.String(length=128), nullable=False),
        sa.Column('issued_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['application_id', 'edition'], ['application.id', 'application.edition'],
                                name='fk_award_certificate_application_id_application'),
        sa.PrimaryKeyConstraint('id', name='pk_award_certificate'),
        sa.UniqueConstraint('edition', 'application_id', name='uq_award_certificate_edition_application_id'),
        sa.UniqueConstraint('edition', 'number', name='uq_award_certificate_edition_number'),
    )


def downgrade() -> None:
    op.drop_table('award_certificate')
