"""kpi covering index: the cooperation volumes around a visit

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 08:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cooperation_volumes', schema=None) as batch_op:
        batch_op.create_index('ix_cooperation_volumes_amount', ['customer_id', 'period_start', 'amount'], unique=False)


def downgrade():
    with op.batch_alter_table('cooperation_volumes', schema=None) as batch_op:
        batch_op.drop_index('ix_cooperation_volumes_amount')
