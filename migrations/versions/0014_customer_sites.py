"""customer sites and check-ins: where a customer is visited, and each visit's check-in flags

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:20:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN (no batch copy on SQLite: the KPI triggers name these tables)
    op.add_column('customers', sa.Column('sites', JSON, nullable=False, server_default='[]'))
    op.add_column('visits', sa.Column('checked_in', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('visits', sa.Column('checkin_flags', JSON, nullable=False, server_default='[]'))


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('checkin_flags')
        batch_op.drop_column('checked_in')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('sites')
