"""tier history reason: why a tier changed outside a review (an admin's direct change)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer_tier_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('customer_tier_history', schema=None) as batch_op:
        batch_op.drop_column('reason')
