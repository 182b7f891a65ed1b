"""create projects table

Revision ID: 7faf510ba30b
Revises: f21a1d6884b4
Create Date: 2024-01-15 11:40:03.662014

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7faf510ba30b'
down_revision: Union[str, Sequence[str], None] = 'f21a1d6884b4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_projects_team_id", "projects", ["team_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_projects_team_id", table_name="projects")
    op.drop_table("projects")
