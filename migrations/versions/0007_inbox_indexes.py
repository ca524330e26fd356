"""inbox indexes: a workflow's deadlines in due order; issues by state and people

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 08:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_deadlines_walk', ['workflow', 'state', 'due_at', 'status', 'instance_id'], unique=False)
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.create_index('ix_issues_state_people', ['state', 'responsible_department', 'responsible_person', 'created_by'], unique=False)


def downgrade():
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_index('ix_issues_state_people')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_walk')
