"""export chunk worker: which worker (host:pid) took each chunk of a batch export

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 19:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('export_chunk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('export_chunk', schema=None) as batch_op:
        batch_op.drop_column('worker')
