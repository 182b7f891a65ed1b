"""add archived flag to projects

Revision ID: 5e2fd8cb71fc
Revises: 65e1af4610aa
Create Date: 2024-02-13 08:55:19.764590

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5e2fd8cb71fc'
down_revision: Union[str, Sequence[str], None] = '65e1af4610aa'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.add_column(
            sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_projects_archived", ["archived"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_index("ix_projects_archived")
        batch_op.drop_column("archived_at")
        batch_op.drop_column("archived")
