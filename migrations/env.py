"""Alembic environment of revgraph's bundled example app.

The database URL comes from ``-x db=URL``, else the ``REVGRAPH_EXAMPLE_DB``
environment variable, else ``sqlite:///example.db`` in the current directory,
so the example runs anywhere without a database server.
"""

import os
from logging.config import fileConfig

from sqlalchemy import create_engine
from sqlalchemy import pool

from alembic import context

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

# The example has no models: its revisions are written by hand.
target_metadata = None

DEFAULT_URL = "sqlite:///example.db"


def database_url() -> str:
    """The URL to migrate: ``-x db=URL``, $REVGRAPH_EXAMPLE_DB, or a local SQLite file."""
    x_args = context.get_x_argument(as_dictionary=True)
    return (
        x_args.get("db")
        or os.environ.get("REVGRAPH_EXAMPLE_DB")
        or DEFAULT_URL
    )


def run_migrations_offline() -> None:
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """
    # The URL is not put into the config: configparser would choke on a
    # password containing "%".
    connectable = create_engine(database_url(), poolclass=pool.NullPool)

    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things; batch mode recreates tables.
            render_as_batch=True,
        )

        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
