"""add index on audit log created at

Revision ID: a424df1506f1
Revises: d844d17f4e39
Create Date: 2024-03-05 10:45:33.610245

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'a424df1506f1'
down_revision: Union[str, Sequence[str], None] = 'd844d17f4e39'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_audit_log_created_at", "audit_log", ["created_at"])
    op.create_index("ix_audit_log_project_id_created_at", "audit_log", ["project_id", "created_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_audit_log_project_id_created_at", table_name="audit_log")
    op.drop_index("ix_audit_log_created_at", table_name="audit_log")
