"""The revisions a real database has applied: its ``alembic_version`` rows.

Read-only, always: nothing is created, no table, no file. A SQLite file is
opened through a ``mode=ro`` URI, so a path that does not exist is an error
instead of a new empty database. A database that has no version table has
never been stamped: that is an empty tuple, not an error.

alembic's ``version_table`` is set in env.py, which revgraph never runs.
Where env.py passes it to ``context.configure`` as a literal, it is read
from there (``version_table_in``, on the source text). Otherwise, a database
without the table asked for whose one table shaped like it (a
``version_num`` column) holds rows is read from that table instead, and the
caller says so: read as "never stamped", every revision it applied would
count as movable, and ``fix --db`` would re-point one (PRODUCT §4). Several
such tables cannot be told apart: an error.

Every failure is a :class:`DatabaseError` (exit 2) with one line that names
the URL with its password masked. SQLAlchemy and the drivers are imported
only here, only when ``--db`` is given.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from revgraph.errors import RevgraphError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import URL, Engine

DEFAULT_VERSION_TABLE = "alembic_version"
CONNECT_TIMEOUT_SECONDS = 10
POSTGRES_EXTRA_HINT = "PostgreSQL needs the optional extra: pip install 'revgraph[postgres]'"

# Drivers that take ``connect_timeout`` (seconds): an unreachable host must
# not hang a CI job for minutes.
_TIMEOUT_BACKENDS = ("postgresql", "mysql", "mariadb")


class DatabaseError(RevgraphError):
    """The database given with ``--db`` could not be read."""


# Query parameters that carry a secret (``?password=`` reaches libpq and most
# drivers as the password): their values are masked like the URL's own. So is a
# value that holds a password of its own (ODBC's ``odbc_connect=...;PWD=...``).
_SECRET_PARAMETER = re.compile(r"(?i)pass|pwd|secret|token|key|credential|auth")
_SECRET_INSIDE = re.compile(r"(?i)(pwd|pass|passwd|password|secret|token)\s*=")


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (also for URLs SQLAlchemy rejects)."""
    from urllib.parse import unquote

    address, mark, query = url.partition("?")
    if mark:
        # First: an "@" in a query value (``?password=se@cret``) would otherwise end
        # the password's mask below inside the query, and show the rest.
        parameters = [
            f"{name}=***" if sep and (_SECRET_PARAMETER.search(name) or _SECRET_INSIDE.search(unquote(value)))
            else f"{name}{sep}{value}"
            for name, sep, value in (pair.partition("=") for pair in query.split("&"))
        ]  # fmt: skip
        url = f"{address}?{'&'.join(parameters)}"
    # Greedy up to the last "@": a password holding "@" or "/" is masked whole
    # (at worst the host is masked too, never the password shown).
    return re.sub(r"(://[^:/@]*:).*@", r"\1***@", url, count=1)


def version_table_in(env_py: bytes) -> tuple[str | None, str | None]:
    """``(version_table, version_table_schema)`` that env.py's source passes to
    ``context.configure`` as string literals; None for one it does not (or passes
    otherwise). Read statically, as revision files are: env.py is never run.
    Two ``configure`` calls (offline and online mode) that disagree give None."""
    import ast

    try:
        tree = ast.parse(env_py)
    except (SyntaxError, ValueError):
        return None, None
    found: dict[str, set] = {"version_table": set(), "version_table_schema": set()}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))):
            continue
        if (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) != "configure":
            continue
        for keyword in node.keywords:
            if keyword.arg in found:
                value = keyword.value
                literal = isinstance(value, ast.Constant) and isinstance(value.value, str)
                found[keyword.arg].add(value.value if literal else None)
    table, schema = (next(iter(v)) if len(v) == 1 else None for v in found.values())
    return table, schema


class Stamp(NamedTuple):
    """What ``--db`` applied: ``revisions`` (sorted), read from ``table``."""

    revisions: tuple[str, ...]
    table: str
    guessed: bool  # ``table`` is not the one asked for: the only one shaped like it


def read_stamped(
    url: str,
    *,
    version_table: str = DEFAULT_VERSION_TABLE,
    schema: str | None = None,
    cwd: Path | str | None = None,
) -> tuple[str, ...]:
    """The revision ids in the database's version table, sorted; ``()`` if never stamped.

    ``cwd``: where a relative SQLite path is found (``-C DIR``); default the
    process's current directory, as SQLAlchemy and alembic do.
    """
    return read_stamp(url, version_table=version_table, schema=schema, cwd=cwd).revisions


def read_stamp(
    url: str,
    *,
    version_table: str = DEFAULT_VERSION_TABLE,
    schema: str | None = None,
    cwd: Path | str | None = None,
    guess: bool = True,
) -> Stamp:
    """``read_stamped``, saying which table the rows came from (see the module docstring).

    ``guess``: without the table asked for, read the one other table shaped like it;
    False when env.py names the table (it is then this environment's, and missing
    means never stamped: another one is another environment's)."""
    parsed = _parse(url)
    engine = _engine(parsed, url, Path(cwd) if cwd is not None else None)
    try:
        return _read_versions(engine, url, version_table, schema, guess)
    finally:
        engine.dispose()


# --------------------------------------------------------------------- URLs
def _parse(url: str) -> "URL":
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseError(
            f"invalid database URL {mask_url(url)!r}: {_one_line(exc)}",
            hint="use a SQLAlchemy URL such as sqlite:///app.db or postgresql://user@host/db",
        ) from None


def _is_sqlite(parsed: "URL") -> bool:
    return parsed.get_backend_name() == "sqlite"


def _sqlite_path(parsed: "URL", url: str, cwd: Path | None) -> Path:
    """The existing SQLite file a URL names; in-memory and missing files are errors."""
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        if database.startswith("file:"):
            raise DatabaseError(
                f"{mask_url(url)}: give SQLite as a path (sqlite:///path/app.db), not a file: URI"
            )
        raise DatabaseError(
            f"{mask_url(url)} is an in-memory SQLite database: it is always empty",
            hint="give the database file: sqlite:///path/to/app.db",
        )
    path = Path(os.path.expanduser(database))
    if not path.is_absolute() and cwd is not None:
        path = cwd / path
    if path.is_dir():
        raise DatabaseError(
            f"{path} is a folder, not a SQLite database file (from {mask_url(url)})"
        )
    if not path.is_file():
        raise DatabaseError(f"no such database file: {path.absolute()} (from {mask_url(url)})")
    return path


# ------------------------------------------------------------------ engines
def _engine(parsed: "URL", url: str, cwd: Path | None) -> "Engine":
    if _is_sqlite(parsed) and parsed.get_driver_name() == "pysqlite":
        return _sqlite_engine(_sqlite_path(parsed, url, cwd))
    return _server_engine(_prefer_installed_driver(parsed), url)


def _sqlite_engine(path: Path) -> "Engine":
    """An engine over a read-only URI connection: SQLite cannot create or write the file."""
    import sqlite3
    from urllib.parse import quote

    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    uri = f"file:{quote(path.resolve().as_posix())}?mode=ro"
    return create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        poolclass=NullPool,
    )


def _prefer_installed_driver(parsed: "URL") -> "URL":
    """``postgresql://`` means psycopg2 to SQLAlchemy; our extra installs psycopg 3."""
    if parsed.drivername != "postgresql":
        return parsed
    import importlib.util

    if importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def _server_engine(parsed: "URL", url: str) -> "Engine":
    from sqlalchemy import create_engine
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError
    from sqlalchemy.pool import NullPool

    connect_args = {}
    if parsed.get_backend_name() in _TIMEOUT_BACKENDS and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    try:
        return create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    except NoSuchModuleError:
        raise DatabaseError(
            f"unknown database kind {parsed.drivername!r} in {mask_url(url)}",
            hint="use a SQLAlchemy URL such as sqlite:///app.db or postgresql://user@host/db",
        ) from None
    except ImportError as exc:
        raise _missing_driver(parsed, url, exc) from None
    except ArgumentError as exc:
        raise DatabaseError(f"invalid database URL {mask_url(url)}: {_one_line(exc)}") from None


def _missing_driver(parsed: "URL", url: str, exc: ImportError) -> DatabaseError:
    module = exc.name or parsed.get_driver_name()
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", "psycopg2"):
            return DatabaseError(
                f"cannot read {mask_url(url)}: the driver {module!r} is not installed",
                hint=f"{POSTGRES_EXTRA_HINT}, then use postgresql:// or postgresql+psycopg://",
            )
        return DatabaseError(f"cannot read {mask_url(url)}: {POSTGRES_EXTRA_HINT}")
    return DatabaseError(
        f"cannot read {mask_url(url)}: its database driver ({module}) is not installed",
        hint=f"install the Python driver SQLAlchemy uses for {parsed.drivername}",
    )


# ------------------------------------------------------------------ reading
def _read_versions(engine: "Engine", url: str, version_table: str, schema: str | None, guess: bool) -> Stamp:
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            if inspector.has_table(version_table, schema=schema):
                stamp = Stamp(_rows(conn, version_table, schema), version_table, False)
            elif not guess:
                stamp = Stamp((), version_table, False)  # never stamped
            else:
                stamp = _only_other_version_table(conn, inspector, url, version_table, schema)
            conn.rollback()  # we only read; leave nothing open on the server
    except ImportError as exc:  # some dialects import their driver on first connect
        raise _missing_driver(engine.url, url, exc) from None
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"cannot read {mask_url(url)}: {_driver_message(exc, engine.url.password)}"
        ) from None
    return stamp


def _rows(conn, name: str, schema: str | None) -> tuple[str, ...]:
    from sqlalchemy import column, select, table

    versions = table(name, column("version_num"), schema=schema)
    rows = conn.execute(select(versions.c.version_num)).scalars().all()
    return tuple(sorted({str(row).strip() for row in rows if row is not None and str(row).strip()}))


def _only_other_version_table(conn, inspector, url: str, asked: str, schema: str | None) -> Stamp:
    """No ``asked`` table: the rows of the one other table shaped like alembic's, if any holds rows."""
    stamped = {}
    for name in _version_shaped_tables(inspector, schema):
        rows = _rows(conn, name, schema)
        if rows:
            stamped[name] = rows
    if not stamped:
        return Stamp((), asked, False)  # never stamped
    if len(stamped) > 1:
        names = ", ".join(sorted(stamped))
        raise DatabaseError(
            f"{mask_url(url)} has no {asked} table, and several tables shaped like alembic's "
            f"version table hold revisions ({names}): revgraph cannot tell which one this "
            "environment's env.py configures (version_table)",
            hint="give --db a database where this environment's version table is alembic_version",
        )
    [(name, rows)] = stamped.items()
    return Stamp(rows, name, True)


def _version_shaped_tables(inspector, schema: str | None) -> list[str]:
    """Tables with a ``version_num`` column, the one column alembic's version table has."""
    names = inspector.get_table_names(schema=schema)
    try:
        columns = inspector.get_multi_columns(schema=schema)  # one query (SQLAlchemy 2)
    except (AttributeError, NotImplementedError):
        columns = {(schema, name): inspector.get_columns(name, schema=schema) for name in names}
    return sorted(
        name for (_, name), found in columns.items()
        if name in names and any(str(c.get("name", "")).lower() == "version_num" for c in found)
    )  # fmt: skip


def _driver_message(exc: Exception, password: object) -> str:
    """The driver's own first line, without SQLAlchemy's SQL echo or a password."""
    original = getattr(exc, "orig", None) or exc
    text = _one_line(original)
    secret = str(password) if password else ""
    return text.replace(secret, "***") if secret else text


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
