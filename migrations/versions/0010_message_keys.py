"""message keys: findings and generated notices keep their texts as a key and parameters

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:00:00

"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    # Rows from before keep their plain text (detail, findings) and show it as it is.
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message", JSON, nullable=True))
    with op.batch_alter_table("rectification_notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("findings_message", JSON, nullable=True))


def downgrade():
    with op.batch_alter_table("rectification_notices", schema=None) as batch_op:
        batch_op.drop_column("findings_message")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_column("message")
