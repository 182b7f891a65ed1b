"""Generate realistic Alembic git repositories for benchmarks and tests.

``generate(path, n, seed=...)`` writes a real git repository at ``path``:

* ``alembic.ini``, ``migrations/env.py`` and ``migrations/script.py.mako``
  (alembic 1.20's typed ``generic`` template), as ``alembic init`` leaves them;
* ``n`` revision files on ``main`` in that template's exact format, named by
  alembic's default ``file_template`` (``<rev>_<slug>.py``), with bodies like
  autogenerate writes (``op.create_table`` with columns and an index,
  ``op.add_column``, ...), about 1.5 KB each;
* forks closed by merge revisions (``down_revision`` a tuple), as on a busy
  main branch where two pull requests landed on the same head;
* a second line of history with a branch label (``reporting``), its own base,
  and ``depends_on`` links into the main line;
* the history committed in batches (``commits`` commits, never one commit per
  revision), each commit a healthy graph, with a ``revgraph.lock`` heads lock
  file kept current;
* a ``feature`` branch forked from an *old* commit of main (``feature_at``)
  adding two revisions on the head main had then: merging it into main would
  leave two heads (revgraph's RG102), and its second revision alters a table
  main also altered since (RG301). ``feature`` is checked out.

Written with one ``git fast-import`` stream, so 20,000 revisions take seconds.
Deterministic: the same ``n``, ``seed`` and options give the same commits.

Run as a script: ``python scripts/genrepo.py DEST -n 5000 [--seed 1]``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

VERSIONS = "migrations/versions"
LOCK_PATH = "migrations/revgraph.lock"
LABEL = "reporting"
_EPOCH = 1_700_000_000  # commit and Create Date clock start (2023-11-14)
_IDENTITY = "Revgraph Bench <bench@revgraph.invalid>"

ALEMBIC_INI = """\
# A generic, single database configuration.

[alembic]
script_location = %(here)s/migrations
prepend_sys_path = .
path_separator = os
sqlalchemy.url = sqlite:///bench.db

[post_write_hooks]

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""

ENV_PY = '''\
from logging.config import fileConfig

from sqlalchemy import engine_from_config
from sqlalchemy import pool

from alembic import context

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = None


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )

    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)

        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

# alembic 1.20 alembic/templates/generic/script.py.mako, byte for byte.
SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: Union[str, Sequence[str], None] = ${repr(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${repr(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${repr(depends_on)}


def upgrade() -> None:
    """Upgrade schema."""
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """Downgrade schema."""
    ${downgrades if downgrades else "pass"}
'''

_NOUNS = (
    "account", "invoice", "order", "customer", "shipment", "product", "payment", "refund",
    "ledger", "audit_log", "session", "tenant", "webhook", "coupon", "warehouse", "supplier",
)  # fmt: skip
_COLUMN_TYPES = (
    "sa.String(length=255)", "sa.Integer()", "sa.Boolean()", "sa.DateTime(timezone=True)",
    "sa.Numeric(precision=12, scale=2)", "sa.Text()", "sa.JSON()", "sa.BigInteger()",
)  # fmt: skip
_COLUMN_NAMES = (
    "name", "status", "amount", "currency", "external_ref", "notes", "created_by", "updated_by",
    "archived_at", "priority", "region", "payload", "retries", "score", "kind", "label",
)  # fmt: skip


# ------------------------------------------------------------------ revisions
@dataclass
class Rev:
    id: str
    down: tuple[str, ...]
    message: str
    create_date: str
    upgrade: str
    downgrade: str
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    table: str | None = None  # the table it creates or alters, for overlap
    line: str = "main"  # "main" or LABEL

    @property
    def path(self) -> str:
        return f"{VERSIONS}/{self.id}_{slug(self.message)}.py"

    def render(self) -> bytes:
        return render_revision(self).encode("utf-8")


def slug(message: str) -> str:
    """alembic's ``%(slug)s``: word characters joined by ``_``, truncated at 40."""
    text = "_".join(re.findall(r"\w+", message)).lower()
    if len(text) > 40:
        text = text[:40].rsplit("_", 1)[0] + "_"
    return text


def _repr_refs(values: tuple[str, ...]) -> str:
    """How the template's ``repr()`` shows a scalar-or-tuple value."""
    if not values:
        return "None"
    if len(values) == 1:
        return repr(values[0])
    return repr(tuple(values))


def render_revision(rev: Rev) -> str:
    """The file ``alembic revision`` writes from the typed template (see SCRIPT_MAKO)."""
    labels = repr(tuple(rev.branch_labels)) if rev.branch_labels else "None"
    return (
        f'"""{rev.message}\n\n'
        f"Revision ID: {rev.id}\n"
        f"Revises: {', '.join(rev.down)}\n"
        f"Create Date: {rev.create_date}\n\n"
        '"""\n'
        "from typing import Sequence, Union\n\n"
        "from alembic import op\n"
        "import sqlalchemy as sa\n\n\n"
        "# revision identifiers, used by Alembic.\n"
        f"revision: str = {rev.id!r}\n"
        f"down_revision: Union[str, Sequence[str], None] = {_repr_refs(rev.down)}\n"
        f"branch_labels: Union[str, Sequence[str], None] = {labels}\n"
        f"depends_on: Union[str, Sequence[str], None] = {_repr_refs(rev.depends_on)}\n\n\n"
        "def upgrade() -> None:\n"
        '    """Upgrade schema."""\n'
        f"    {rev.upgrade}\n\n\n"
        "def downgrade() -> None:\n"
        '    """Downgrade schema."""\n'
        f"    {rev.downgrade}\n"
    )


def _autogen(lines: Sequence[str]) -> str:
    """Op lines as autogenerate indents them inside the template."""
    body = ["# ### commands auto generated by Alembic - please adjust! ###", *lines]
    body.append("# ### end Alembic commands ###")
    return "\n    ".join(body)


class _Writer:
    """Draws ids, dates, tables and bodies from one seeded random source."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ids: set[str] = set()
        self.tables: list[str] = []
        self.clock = 0

    def new_id(self) -> str:
        while True:
            rid = f"{self.rng.getrandbits(48):012x}"
            if rid not in self.ids:
                self.ids.add(rid)
                return rid

    def date(self) -> str:
        self.clock += 1
        seconds = self.clock * 613
        day, rest = divmod(seconds, 86400)
        import datetime

        when = datetime.datetime(2021, 1, 4) + datetime.timedelta(days=day, seconds=rest)
        return f"{when:%Y-%m-%d %H:%M:%S}.{(self.clock * 7919) % 1_000_000:06d}"

    def create_table(self) -> tuple[str, str, str, str]:
        table = f"{self.rng.choice(_NOUNS)}_{len(self.tables):05d}"
        self.tables.append(table)
        columns = ["sa.Column('id', sa.Integer(), nullable=False)"]
        names = self.rng.sample(_COLUMN_NAMES, self.rng.randint(6, 10))
        for name in names:
            kind = self.rng.choice(_COLUMN_TYPES)
            columns.append(f"sa.Column('{name}', {kind}, nullable={self.rng.random() < 0.5})")
        columns.append(
            "sa.Column('created_at', sa.DateTime(timezone=True), "
            "server_default=sa.text('now()'), nullable=False)"
        )
        columns.append("sa.PrimaryKeyConstraint('id')")
        indexed = names[0]
        upgrade = _autogen(
            [f"op.create_table('{table}',", *[f"{c}," for c in columns[:-1]], columns[-1], ")",
             f"op.create_index(op.f('ix_{table}_{indexed}'), '{table}', ['{indexed}'], unique=False)",
             f"op.create_index(op.f('ix_{table}_created_at'), '{table}', ['created_at'], unique=False)"]
        )  # fmt: skip
        downgrade = _autogen(
            [f"op.drop_index(op.f('ix_{table}_created_at'), table_name='{table}')",
             f"op.drop_index(op.f('ix_{table}_{indexed}'), table_name='{table}')",
             f"op.drop_table('{table}')"]
        )  # fmt: skip
        return f"add {table} table", upgrade, downgrade, table

    def alter_table(self, table: str | None = None) -> tuple[str, str, str, str]:
        table = table or self.rng.choice(self.tables)
        name = f"{self.rng.choice(_COLUMN_NAMES)}_{self.clock}"
        kind = self.rng.choice(_COLUMN_TYPES)
        upgrade = _autogen(
            [f"op.add_column('{table}', sa.Column('{name}', {kind}, nullable=True))",
             f"op.create_index(op.f('ix_{table}_{name}'), '{table}', ['{name}'], unique=False)",
             f"op.execute(\"UPDATE {table} SET {name} = NULL WHERE {name} IS NOT NULL\")",
             f"op.alter_column('{table}', 'id', existing_type=sa.Integer(), nullable=False)"]
        )  # fmt: skip
        downgrade = _autogen(
            [f"op.drop_index(op.f('ix_{table}_{name}'), table_name='{table}')",
             f"op.drop_column('{table}', '{name}')"]
        )  # fmt: skip
        return f"add {name} to {table}", upgrade, downgrade, table

    def revision(self, down: Iterable[str], *, line: str = "main", alter: str | None = None, **extra) -> Rev:
        if alter is not None or (self.tables and self.rng.random() < 0.45):
            message, upgrade, downgrade, table = self.alter_table(alter)
        else:
            message, upgrade, downgrade, table = self.create_table()
        if line != "main":
            message = f"{line}: {message}"
        return Rev(self.new_id(), tuple(down), message, self.date(), upgrade, downgrade,
                   table=table, line=line, **extra)  # fmt: skip

    def merge(self, down: Sequence[str]) -> Rev:
        message = "merge heads"
        return Rev(self.new_id(), tuple(down), message, self.date(), "pass", "pass")


# -------------------------------------------------------------------- history
@dataclass
class Commit:
    revisions: list[Rev]
    heads: dict[str, str]  # lock label -> head id after this commit
    messages: dict[str, str]


@dataclass
class Plan:
    """What ``generate`` writes: main's commits and the feature branch's."""

    main: list[Commit]
    feature_from: int  # index in ``main`` the feature branch starts from
    feature: list[Commit]
    merges: int = 0
    forks: int = 0


def plan_history(
    n: int,
    *,
    seed: int = 0,
    commits: int = 50,
    fork_rate: float = 0.04,
    label_rate: float = 0.05,
    feature_at: float = 0.9,
) -> Plan:
    """The revisions (``n`` on main) and how they are committed; no I/O."""
    if n < 4:
        raise ValueError("n must be at least 4")
    w = _Writer(seed)
    ordered: list[Rev] = []
    stable_after: list[bool] = []  # whether main has one head per line after ordered[i]
    head = None
    label_head: str | None = None
    label_start = max(2, n // 10)
    merges = forks = 0

    def add(rev: Rev, stable: bool) -> None:
        ordered.append(rev)
        stable_after.append(stable)

    while len(ordered) < n:
        room = n - len(ordered)
        if head is None:
            rev = w.revision(())
            head = rev.id
            add(rev, True)
        elif label_head is None and len(ordered) >= label_start:
            rev = w.revision((), line=LABEL, branch_labels=(LABEL,), depends_on=(head,))
            label_head = rev.id
            add(rev, True)
        elif label_head is not None and w.rng.random() < label_rate:
            deps = (head,) if w.rng.random() < 0.2 else ()
            rev = w.revision((label_head,), line=LABEL, depends_on=deps)
            label_head = rev.id
            add(rev, True)
        elif room >= 3 and w.rng.random() < fork_rate:
            lengths = [w.rng.randint(1, 3), w.rng.randint(1, 3)]
            while sum(lengths) + 1 > room:
                lengths[lengths.index(max(lengths))] -= 1
            tips = []
            for length in lengths:
                tip = head
                for _ in range(length):
                    rev = w.revision((tip,))
                    tip = rev.id
                    add(rev, False)
                tips.append(tip)
            rev = w.merge(tips)
            head = rev.id
            add(rev, True)
            forks += 1
            merges += 1
        else:
            rev = w.revision((head,))
            head = rev.id
            add(rev, True)

    main = _batches(ordered, stable_after, commits)
    at = min(len(main) - 2, max(0, int(len(main) * feature_at)))
    fork_head = main[at].heads["head"]
    last_main_table = next(r.table for r in reversed(ordered) if r.table and r.line == "main")
    f1 = w.revision((fork_head,))
    f2 = w.revision((f1.id,), alter=last_main_table)
    feature = []
    for rev in (f1, f2):
        heads = dict(main[at].heads, head=rev.id)
        messages = dict(main[at].messages, head=rev.message)
        feature.append(Commit([rev], heads, messages))
    return Plan(main, at, feature, merges=merges, forks=forks)


def _batches(ordered: list[Rev], stable_after: list[bool], commits: int) -> list[Commit]:
    """Contiguous batches of about ``len/commits`` revisions, each ending on a healthy graph."""
    size = max(1, -(-len(ordered) // max(1, commits)))
    out: list[Commit] = []
    heads: dict[str, str] = {}
    messages: dict[str, str] = {}
    batch: list[Rev] = []
    for rev, stable in zip(ordered, stable_after):
        batch.append(rev)
        key = "head" if rev.line == "main" else LABEL
        heads[key] = rev.id
        messages[key] = rev.message
        if stable and len(batch) >= size:
            out.append(Commit(batch, dict(heads), dict(messages)))
            batch = []
    if batch:
        out.append(Commit(batch, dict(heads), dict(messages)))
    return out


def lock_text(heads: dict[str, str], messages: dict[str, str]) -> bytes:
    """The heads lock file ``revgraph lock`` writes for these heads."""
    from revgraph.lockfile import LockEntry, render_lock

    entries = [LockEntry(label, rid, messages[label]) for label, rid in heads.items()]
    return render_lock(entries, "default").encode("utf-8")


# ------------------------------------------------------------------ writing
@dataclass
class GeneratedRepo:
    path: Path
    revisions: int  # on main
    main_heads: tuple[str, ...]
    feature_heads: tuple[str, ...]
    feature_revisions: tuple[str, ...]
    fork_point: str  # the main head the feature branch forked from
    merges: int
    commits: int
    lock_path: str = LOCK_PATH
    versions: str = VERSIONS
    extra: dict = field(default_factory=dict)


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def _commit_block(ref: str, mark: int, parent: int | None, when: int, message: str, files: list[tuple[str, bytes]]) -> bytes:
    parts = [
        b"commit %s\nmark :%d\n" % (ref.encode(), mark),
        b"author %s %d +0000\ncommitter %s %d +0000\n"
        % (_IDENTITY.encode(), when, _IDENTITY.encode(), when),
        _data(message.encode()),
    ]
    if parent is not None:
        parts.append(b"from :%d\n" % parent)
    for path, payload in files:
        parts.append(b"M 100644 inline %s\n" % path.encode())
        parts.append(_data(payload))
    return b"".join(parts)


def _environment_files() -> list[tuple[str, bytes]]:
    return [
        ("alembic.ini", ALEMBIC_INI.encode()),
        ("migrations/env.py", ENV_PY.encode()),
        ("migrations/script.py.mako", SCRIPT_MAKO.encode()),
        ("migrations/README", b"Generic single-database configuration.\n"),
        (".gitignore", b"__pycache__/\n*.pyc\n*.db\n"),
    ]


def _git_environ() -> dict[str, str]:
    environ = dict(os.environ)
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        environ.pop(name, None)
    environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    return environ


def _git(path: Path, *args: str, input: bytes | None = None) -> bytes:
    done = subprocess.run(
        ["git", *args], cwd=path, input=input, capture_output=True, env=_git_environ()
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def generate(
    path: str | os.PathLike[str],
    n: int,
    *,
    seed: int = 0,
    commits: int = 50,
    lock: bool = True,
    checkout: str = "feature",
    **plan_options: float,
) -> GeneratedRepo:
    """Write the repository at ``path`` (created; must not hold a repository yet)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if (path / ".git").exists():
        raise FileExistsError(f"{path} already holds a git repository")
    plan = plan_history(n, seed=seed, commits=commits, **plan_options)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "config", "user.name", "Revgraph Bench")
    _git(path, "config", "user.email", "bench@revgraph.invalid")
    _git(path, "config", "core.autocrlf", "false")
    _git(path, "fast-import", "--quiet", "--done", input=_stream(plan, lock))
    _git(path, "checkout", "-q", "-f", checkout)
    main_commit = plan.main[-1]
    return GeneratedRepo(
        path=path,
        revisions=sum(len(c.revisions) for c in plan.main),
        main_heads=tuple(sorted(main_commit.heads.values())),
        feature_heads=tuple(sorted(plan.feature[-1].heads.values())),
        feature_revisions=tuple(r.id for c in plan.feature for r in c.revisions),
        fork_point=plan.main[plan.feature_from].heads["head"],
        merges=plan.merges,
        commits=len(plan.main) + len(plan.feature),
    )


def _stream(plan: Plan, lock: bool) -> bytes:
    blocks: list[bytes] = []
    mark = 0
    parent: int | None = None
    marks: list[int] = []
    clock = _EPOCH
    for i, commit in enumerate(plan.main):
        files = _environment_files() if i == 0 else []
        files += [(rev.path, rev.render()) for rev in commit.revisions]
        if lock:
            files.append((LOCK_PATH, lock_text(commit.heads, commit.messages)))
        mark += 1
        clock += 3600
        message = f"Add {len(commit.revisions)} migrations" if i else "Initial schema"
        blocks.append(_commit_block("refs/heads/main", mark, parent, clock, message, files))
        parent = mark
        marks.append(mark)
    parent = marks[plan.feature_from]
    for commit in plan.feature:
        files = [(rev.path, rev.render()) for rev in commit.revisions]
        if lock:
            files.append((LOCK_PATH, lock_text(commit.heads, commit.messages)))
        mark += 1
        clock += 60
        message = f"feature: {commit.revisions[0].message}"
        blocks.append(_commit_block("refs/heads/feature", mark, parent, clock, message, files))
        parent = mark
    blocks.append(b"done\n")
    return b"".join(blocks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("-n", "--revisions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--commits", type=int, default=50)
    args = parser.parse_args(argv)
    info = generate(args.dest, args.revisions, seed=args.seed, commits=args.commits)
    print(
        f"{info.path}: {info.revisions} revisions on main in {info.commits} commits, "
        f"{info.merges} merge revisions; main heads {', '.join(info.main_heads)}; "
        f"feature adds {', '.join(info.feature_revisions)} on {info.fork_point}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
