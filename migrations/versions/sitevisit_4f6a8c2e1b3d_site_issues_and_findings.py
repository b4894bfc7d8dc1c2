"""site-visit issues (issue 25.3): the issues to verify on site per applicant and the findings per issue

Revision ID: 4f6a8c2e1b3d
Revises: 99e7032f8794
Create Date: 2026-12-08 02:20:00
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.base


revision = '4f6a8c2e1b3d'
down_revision = '99e7032f8794'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('site_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('edition', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=16), nullable=False),
    sa.Column('verify', sa.Text(), nullable=False),
    sa.Column('ask', sa.Text(), nullable=False),
    sa.Column('documents', sa.Text(), nullable=False),
    sa.Column('added_by', sa.String(length=128), nullable=False),
    sa.Column('added_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id', 'edition'], ['application.id', 'application.edition'],
                            name=op.f('fk_site_issue_application_id_application')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_issue')),
    sa.UniqueConstraint('application_id', 'position', name=op.f('uq_site_issue_application_id_position'))
    )
    with op.batch_alter_table('site_issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_issue_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_site_issue_edition'), ['edition'], unique=False)
    op.create_table('site_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('by_group', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('adjustment', sa.Integer(), nullable=False),
    sa.Column('finding', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_at', workflows.core.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['site_issue.id'], name=op.f('fk_site_finding_issue_id_site_issue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_finding')),
    sa.UniqueConstraint('issue_id', 'recorded_by', 'by_group',
                        name=op.f('uq_site_finding_issue_id_recorded_by_by_group'))
    )
    with op.batch_alter_table('site_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_finding_issue_id'), ['issue_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('site_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_finding_issue_id'))
    op.drop_table('site_finding')
    with op.batch_alter_table('site_issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_issue_edition'))
        batch_op.drop_index(batch_op.f('ix_site_issue_application_id'))
    op.drop_table('site_issue')
