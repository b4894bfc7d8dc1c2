"""the application's enterprise type (营业执照「类型」): legal persons only [seed §二 具有法人资格]

Revision ID: a9bf903a5cd0
Revises: 4c8e1a7f3b92
Create Date: 2026-12-08 01:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a9bf903a5cd0'
down_revision = '4c8e1a7f3b92'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enterprise_type', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('enterprise_type')
