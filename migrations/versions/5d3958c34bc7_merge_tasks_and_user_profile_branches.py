"""merge tasks and user profile branches

Revision ID: 5d3958c34bc7
Revises: ce59e3c63669, f06b14796f75
Create Date: 2024-01-26 09:30:44.877129

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5d3958c34bc7'
down_revision: Union[str, Sequence[str], None] = ('ce59e3c63669', 'f06b14796f75')
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
