"""editions in one database: every edition-owned row carries its edition; numbers per edition

Adds `edition` to the rows that belong to an application (recommendation, document, formal_review,
supplement_request, expert_assignment, conflict_declaration, score_sheet, score_consensus), filled
from their application, and makes every foreign key to an application a composite one on
(application_id, edition) → application(id, edition), so a row's edition cannot differ from its
application's.  Application and complaint numbers become unique per edition, allocated from the new
`number_counter` (seeded with the numbers already issued).  Reminders are claimed per edition;
existing claims are given the edition that most recently opened a stage.

Downgrade restores the single-edition schema; it fails if two editions share a number.

Revision ID: 5d1e2f3a4b6c
Revises: 0916585d75fa
Create Date: 2026-11-30 13:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5d1e2f3a4b6c'
down_revision = '0916585d75fa'
branch_labels = None
depends_on = None

# Tables that gain an edition column, taken from their application.
CHILDREN = ('recommendation', 'document', 'formal_review', 'supplement_request', 'expert_assignment',
            'conflict_declaration', 'score_sheet', 'score_consensus')
# Tables that already had an edition column: only their foreign key becomes composite.
WITH_EDITION = ('shortlist', 'vote_conflict', 'award_record')


def _composite_fk(batch_op, table: str, column: str = 'application_id') -> None:
    name = f'fk_{table}_{column}_application'
    batch_op.drop_constraint(name, type_='foreignkey')
    batch_op.create_foreign_key(name, 'application', [column, 'edition'], ['id', 'edition'])


def _simple_fk(batch_op, table: str, column: str = 'application_id') -> None:
    name = f'fk_{table}_{column}_application'
    batch_op.drop_constraint(name, type_='foreignkey')
    batch_op.create_foreign_key(name, 'application', [column], ['id'])


def upgrade() -> None:
    op.create_table('number_counter',
    sa.Column('edition', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('edition', 'kind', name=op.f('pk_number_counter'))
    )
    for kind, table in (('application', 'application'), ('complaint', 'complaint')):
        op.execute(f"INSERT INTO number_counter (edition, kind, issued) SELECT edition, '{kind}', COUNT(number) "
                   f"FROM {table} WHERE number IS NOT NULL GROUP BY edition")

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_application_number'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_application_edition_number'), ['edition', 'number'])
        batch_op.create_unique_constraint(batch_op.f('uq_application_id_edition'), ['id', 'edition'])

    for table in CHILDREN:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('edition', sa.String(length=64), nullable=True))
        op.execute(f"UPDATE {table} SET edition = (SELECT application.edition FROM application "
                   f"WHERE application.id = {table}.application_id)")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('edition', existing_type=sa.String(length=64), nullable=False)
            batch_op.create_index(batch_op.f(f'ix_{table}_edition'), ['edition'], unique=False)
            _composite_fk(batch_op, table)

    for table in WITH_EDITION:
        with op.batch_alter_table(table, schema=None) as batch_op:
            _composite_fk(batch_op, table)

    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_complaint_number'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_complaint_edition_number'), ['edition', 'number'])
        _composite_fk(batch_op, 'complaint')
        _composite_fk(batch_op, 'complaint', 'replacement_id')

    with op.batch_alter_table('reminder_sent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edition', sa.String(length=64), nullable=True))
    op.execute("UPDATE reminder_sent SET edition = COALESCE((SELECT stage_state.edition FROM stage_state "
               "WHERE stage_state.opened_at IS NOT NULL ORDER BY stage_state.opened_at DESC LIMIT 1), '')")
    with op.batch_alter_table('reminder_sent', schema=None) as batch_op:
        batch_op.alter_column('edition', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_reminder_sent_deadline_key_offset_recipient'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_reminder_sent_edition_deadline_key_offset_recipient'),
                                          ['edition', 'deadline_key', 'offset', 'recipient'])


def downgrade() -> None:
    with op.batch_alter_table('reminder_sent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_reminder_sent_edition_deadline_key_offset_recipient'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_reminder_sent_deadline_key_offset_recipient'),
                                          ['deadline_key', 'offset', 'recipient'])
        batch_op.drop_column('edition')

    with op.batch_alter_table('complaint', schema=None) as batch_op:
        _simple_fk(batch_op, 'complaint', 'replacement_id')
        _simple_fk(batch_op, 'complaint')
        batch_op.drop_constraint(batch_op.f('uq_complaint_edition_number'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_complaint_number'), ['number'])

    for table in WITH_EDITION:
        with op.batch_alter_table(table, schema=None) as batch_op:
            _simple_fk(batch_op, table)

    for table in reversed(CHILDREN):
        with op.batch_alter_table(table, schema=None) as batch_op:
            _simple_fk(batch_op, table)
            batch_op.drop_index(batch_op.f(f'ix_{table}_edition'))
            batch_op.drop_column('edition')

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_application_id_edition'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_application_edition_number'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_application_number'), ['number'])

    op.drop_table('number_counter')
