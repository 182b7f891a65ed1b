"""create daily project stats

Revision ID: d844d17f4e39
Revises: 9ffabb25eb44
Create Date: 2024-02-27 16:20:05.928413

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'd844d17f4e39'
down_revision: Union[str, Sequence[str], None] = '9ffabb25eb44'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "daily_project_stats",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tasks_opened", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tasks_closed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("comments", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "day"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("daily_project_stats")
