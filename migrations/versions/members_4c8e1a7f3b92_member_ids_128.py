"""One length for a member id everywhere: every column holding one is 128 characters (issue 22.4)

A linked-corp member's id is "CorpID/UserID" (up to 128); these columns were 64, so on PostgreSQL such a
member could not confirm a site visit, wait for a stage, vote or declare a conflict.

Revision ID: 4c8e1a7f3b92
Revises: c2d3e4f5a6b7
Create Date: 2026-12-08 01:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '4c8e1a7f3b92'
down_revision = 'c2d3e4f5a6b7'
branch_labels = None
depends_on = None

# table → [(column, nullable)]
MEMBER_COLUMNS = {
    'approval': [('recorded_by', False), ('announced_by', True)],
    'assignment_proposal': [('created_by', False), ('confirmed_by', True)],
    'ballot': [('opened_by', False), ('closed_by', True)],
    'ballot_participation': [('member', False)],
    'call_publication': [('recorded_by', False)],
    'committee_meeting': [('recorded_by', False)],
    'committee_rules': [('recorded_by', False)],
    'complaint': [('concluded_by', True)],
    'confirmation': [('userid', False)],
    'conflict_declaration': [('expert', False)],
    'deadline_extension': [('by', False)],
    'expert_assignment': [('expert', False), ('assigned_by', False)],
    'formal_review': [('decided_by', True)],
    'gate_admission': [('decided_by', False)],
    'place_decision': [('referred_by', False), ('decided_by', True)],
    'publicity': [('started_by', False), ('report_sent_by', True)],
    'report_confirmation': [('confirmed_by', False)],
    'review_finding': [('created_by', False)],
    'score_consensus': [('recorded_by', False)],
    'score_sheet': [('expert', False)],
    'shortlist': [('decided_by', False)],
    'stage_waiter': [('userid', False)],
    'supplement_request': [('requested_by', False)],
    'training_event': [('created_by', False)],
    'training_material': [('sent_by', False)],
    'vote_conflict': [('member', False), ('declared_by', False)],
}


def upgrade() -> None:
    for table, columns in MEMBER_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, nullable in columns:
                batch_op.alter_column(column, existing_type=sa.VARCHAR(length=64), type_=sa.String(length=128),
                                      existing_nullable=nullable)


def downgrade() -> None:
    for table, columns in MEMBER_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, nullable in columns:
                batch_op.alter_column(column, existing_type=sa.String(length=128), type_=sa.VARCHAR(length=64),
                                      existing_nullable=nullable)
