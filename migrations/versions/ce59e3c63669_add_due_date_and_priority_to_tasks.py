"""add due date and priority to tasks

Revision ID: ce59e3c63669
Revises: 46b4fc2de7bf
Create Date: 2024-01-25 17:51:12.243301

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'ce59e3c63669'
down_revision: Union[str, Sequence[str], None] = '46b4fc2de7bf'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.add_column(sa.Column("due_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="2", nullable=False))
        batch_op.create_index("ix_tasks_due_date", ["due_date"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_index("ix_tasks_due_date")
        batch_op.drop_column("priority")
        batch_op.drop_column("due_date")
