"""notice items: the visits and issues a notice relates, visible to its addressed department

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notice_items',
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('workflow', sa.String(length=40), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['rectification_notices.id'], name=op.f('fk_notice_items_notice_id_rectification_notices')),
    sa.PrimaryKeyConstraint('notice_id', 'workflow', 'item_id', name=op.f('pk_notice_items'))
    )
    with op.batch_alter_table('notice_items', schema=None) as batch_op:
        batch_op.create_index('ix_notice_items_seen', ['workflow', 'department', 'item_id'], unique=False)
    # the notices issued before this table: their related items, from their JSON column
    conn = op.get_bind()
    notices = sa.table(
        'rectification_notices',
        sa.column('id', sa.Integer()),
        sa.column('department', sa.String()),
        sa.column('related', sa.JSON()),
    )
    items = sa.table(
        'notice_items',
        sa.column('notice_id', sa.Integer()),
        sa.column('workflow', sa.String()),
        sa.column('item_id', sa.Integer()),
        sa.column('department', sa.String()),
    )
    rows = []
    for notice in conn.execute(sa.select(notices.c.id, notices.c.department, notices.c.related)):
        seen = set()
        for item in notice.related or []:
            key = (item.get('workflow'), item.get('id'))
            if key[0] in ('visit', 'issue') and isinstance(key[1], int) and key not in seen:
                seen.add(key)
                rows.append({'notice_id': notice.id, 'workflow': key[0], 'item_id': key[1],
                             'department': notice.department})
    if rows:
        conn.execute(items.insert(), rows)


def downgrade():
    with op.batch_alter_table('notice_items', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_items_seen')
    op.drop_table('notice_items')
