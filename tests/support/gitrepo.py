"""Real temporary git repositories for tests, driven through the git CLI.

``GitRepo`` wraps one repository: write files, commit, branch, merge, rebase,
cherry-pick, add alembic revision files, and run the real ``revgraph`` CLI on
it. Nothing is mocked: every call is a subprocess.

Isolation (``isolated_environ``): a throwaway ``HOME`` and global git config,
no system config, fixed identity, no colour, no CI variables and nothing that
would point git at another repository. The ``git_env`` fixture applies it to
``os.environ`` with monkeypatch so in-process code sees the same world.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Sequence, Union

from tests.support import zygote
from tests.support.revfiles import (
    TEMPLATES,
    RevRef,
    render_revision,
    revision_filename,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_MIGRATIONS = REPO_ROOT / "migrations"

GIT_NAME = "Revgraph Tests"
GIT_EMAIL = "tests@revgraph.invalid"
COMMAND_TIMEOUT = 120  # seconds; a hung git or CLI fails the test instead of the run

# Variables that would leak the outer world into a test: CI base-branch
# detection, git redirection, forced colour, revgraph's own settings.
_REMOVED_VARS = (
    "ALEMBIC_CONFIG",
    "GITHUB_BASE_REF",
    "GITHUB_HEAD_REF",
    "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
    "CI",
    "GITLAB_CI",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_DEFAULT_BRANCH",
    "BITBUCKET_PR_DESTINATION_BRANCH",
    "SYSTEM_PULLREQUEST_TARGETBRANCH",
    "BUILDKITE_PULL_REQUEST_BASE_BRANCH",
    "CHANGE_TARGET",
    "DRONE_TARGET_BRANCH",
    "CIRCLE_BRANCH",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_DATE",
    "FORCE_COLOR",
    "CLICOLOR_FORCE",
    "PY_COLORS",
)

_GITCONFIG = f"""\
[user]
\tname = {GIT_NAME}
\temail = {GIT_EMAIL}
[commit]
\tgpgsign = false
[tag]
\tgpgsign = false
[core]
\tautocrlf = false
[advice]
\tdetachedHead = false
[merge]
\tconflictstyle = merge
[init]
\tdefaultBranch = main
"""


def isolated_environ(home: Path) -> dict[str, str | None]:
    """Variables to set (str) or remove (None) so git and revgraph ignore the host.

    Creates ``home`` and its global git config. The config points
    ``init.templateDir`` at an empty folder: ``git init`` and ``git clone``
    then write 2 files instead of 17 (no sample hooks, no ``info/exclude``),
    which nothing revgraph does depends on, and a run makes and copies over a
    thousand repositories (about 4 ms of CPU less for each, and fewer files
    for the template copies and the clean-up to walk).
    """
    home.mkdir(parents=True, exist_ok=True)
    template_dir = home / "git-template"
    template_dir.mkdir(exist_ok=True)
    gitconfig = home / ".gitconfig"
    quoted = str(template_dir).replace("\\", "\\\\").replace('"', '\\"')  # a config value may hold ; or #
    gitconfig.write_text(_GITCONFIG + f'\ttemplateDir = "{quoted}"\n', encoding="utf-8")
    changes: dict[str, str | None] = {name: None for name in _REMOVED_VARS}
    changes.update({name: None for name in os.environ if name.startswith("REVGRAPH_")})
    changes.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_AUTHOR_NAME": GIT_NAME,
            "GIT_AUTHOR_EMAIL": GIT_EMAIL,
            "GIT_COMMITTER_NAME": GIT_NAME,
            "GIT_COMMITTER_EMAIL": GIT_EMAIL,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_EDITOR": "true",  # `rebase --continue` must not wait for an editor
            "GIT_SEQUENCE_EDITOR": "true",
            "GIT_MERGE_AUTOEDIT": "no",
            "GIT_PAGER": "cat",
            "PAGER": "cat",
            "NO_COLOR": "1",
            "TERM": "dumb",
            "COLUMNS": "200",
            "PYTHONIOENCODING": "utf-8",
            # alembic imports the revision files of the test repositories: byte-code
            # written beside them would show up in `git status`, and a .pyc of a
            # file rewritten within the same second at the same size is taken
            # for current (Python checks mtime in seconds), so alembic would read
            # the old down_revision. A developer's machine writes byte-code.
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return changes


def apply_environ(changes: Mapping[str, str | None], base: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class GitCommandFailed(subprocess.CalledProcessError):
    """A command exited with an unexpected code; str() shows its output."""

    def __str__(self) -> str:
        return (
            f"{' '.join(map(str, self.cmd))} exited {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


def _run(
    cmd: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None,
    expect: bool | int | None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; ``expect`` True means exit 0, an int that exit code, None/False anything.

    ``python -m revgraph|alembic`` runs as a fork of a warmed-up interpreter
    (``zygote``) where it can, a fresh one otherwise.
    """
    data = input.encode("utf-8") if input is not None else None
    forked = None
    if zygote.usable(cmd, env):
        forked = zygote.run(cmd, cwd=cwd, env=env, input=data, timeout=COMMAND_TIMEOUT)
    if forked is not None:
        raw = subprocess.CompletedProcess(list(cmd), *forked)
    else:
        raw = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=data,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
        )
    # Decoded by hand, not text=True: universal newlines would hide "\r\n".
    proc = subprocess.CompletedProcess(
        raw.args,
        raw.returncode,
        raw.stdout.decode("utf-8", errors="replace"),
        raw.stderr.decode("utf-8", errors="replace"),
    )
    wanted = 0 if expect is True else expect
    if wanted is not None and wanted is not False and proc.returncode != wanted:
        raise GitCommandFailed(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc


def run_module(
    module: str,
    *args: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    check: bool | int | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGS`` in ``cwd`` (default: here), as a test outside a GitRepo runs the CLI."""
    return _run(
        [sys.executable, "-m", module, *map(str, args)],
        cwd=Path(cwd) if cwd is not None else Path.cwd(),
        env=env,
        expect=check,
        input=input,
    )


def run_alembic(
    repo_path: str | os.PathLike[str],
    *args: str,
    check: bool | int | None = True,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m alembic ARGS`` with ``cwd=repo_path`` (where alembic.ini is)."""
    return _run(
        [sys.executable, "-m", "alembic", *args], cwd=Path(repo_path), env=env, expect=check
    )


def sqlite_tables(db_path: str | os.PathLike[str]) -> set[str]:
    """Names of the tables in a SQLite database file (SQLite's own excluded)."""
    with sqlite3.connect(str(db_path)) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    return {name for (name,) in rows}


_MINIMAL_INI = """\
[alembic]
script_location = %(here)s/migrations
prepend_sys_path = .
path_separator = os

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

PathOrText = Union[str, bytes]

_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class GitRepo:
    """One real git repository in a temporary directory.

    ``env``: the environment for every subprocess; ``None`` inherits
    ``os.environ`` at call time (the fixtures isolate it with monkeypatch).
    """

    FIRST_CREATE_DATE = datetime.datetime(2024, 6, 3, 9, 0, 0, 125000)

    def __init__(self, path: str | os.PathLike[str], env: Mapping[str, str] | None = None):
        self.path = Path(path)
        self.env = env
        self._dates_issued = 0
        # A ``tests.support.templates.RepoTemplates`` (the ``gitrepo`` fixtures set it):
        # where ``build_once`` keeps what it built.
        self.templates = None

    def __repr__(self) -> str:
        return f"GitRepo({str(self.path)!r})"

    # ------------------------------------------------------------- creation
    @classmethod
    def init(cls, path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> GitRepo:
        """``git init -b main`` at ``path``: an empty repository, no commit yet."""
        repo = cls(path, env)
        repo.path.mkdir(parents=True, exist_ok=True)
        repo.git("init", "-q", "-b", "main")
        return repo

    def clone(self, dest: str | os.PathLike[str]) -> GitRepo:
        """A clone of this repository at ``dest`` (``origin`` points here)."""
        dest = Path(dest)
        _run(
            ["git", "clone", "-q", str(self.path), str(dest)],
            cwd=dest.parent,
            env=self.env,
            expect=True,
        )
        return GitRepo(dest, self.env)

    def build_once(self, key: str, build, beside: Sequence[str] = ()):
        """Make this new, empty repository what ``build(repo)`` makes of one; returns build's value.

        With a template store (``self.templates``) ``build`` runs once per test
        run for ``key`` and this repository becomes a copy of the result (see
        tests/support/templates.py); without one, ``build`` runs here. ``build``
        must give the same result whenever it runs (its value JSON-serialisable).
        ``beside``: names of files ``build`` writes beside the repository
        (``repo.path.parent / name``, a database say), copied beside this one.
        """
        if sorted(p.name for p in self.path.iterdir()) != [".git"] or any((self.path / ".git" / "refs" / "heads").iterdir()):
            raise AssertionError(f"build_once needs a new, empty repository: {self.path}")
        for name in beside:
            if (self.path.parent / name).exists():
                raise AssertionError(f"build_once would overwrite {self.path.parent / name}")
        if self.templates is None:
            return build(self)
        return self.templates.replace(self, key, build, beside)

    # ----------------------------------------------------------------- files
    def write(self, relpath: str | os.PathLike[str], content: PathOrText) -> Path:
        """Write exact bytes (str is UTF-8 encoded, newlines untouched)."""
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        target.write_bytes(data)
        return target

    def read(self, relpath: str | os.PathLike[str]) -> bytes:
        return (self.path / relpath).read_bytes()

    def remove(self, relpath: str | os.PathLike[str]) -> None:
        (self.path / relpath).unlink()

    # ------------------------------------------------------------------- git
    def git(
        self, *args: str, check: bool | int | None = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return _run(["git", *args], cwd=self.path, env=self.env, expect=check, input=input)

    def commit(self, message: str, *paths: str | os.PathLike[str]) -> str:
        """Stage ``paths`` (or everything when none given), commit, return the new sha."""
        if paths:
            self.git("add", "-A", "--", *map(str, paths))
        else:
            self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        _, sha = self._head_from_files()
        return sha or self.head()

    def _head_from_files(self) -> tuple[str | None, str | None]:
        """(branch HEAD is on, the commit it names), read from .git without starting git.

        What ``current_branch`` and ``head`` would say, for the plain case the
        helpers make: a ``.git`` folder whose HEAD names a loose branch ref, or
        a commit id (branch None). (None, None) whenever that is not so (a
        ``.git`` file, packed refs, an unborn branch, anything odd): ask git.
        """
        git_dir = self.path / ".git"
        try:
            head = (git_dir / "HEAD").read_text(encoding="ascii").strip()
            if not head.startswith("ref: refs/heads/"):
                return (None, head) if _COMMIT_ID.fullmatch(head) else (None, None)
            sha = (git_dir / head[5:]).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None, None
        if not _COMMIT_ID.fullmatch(sha):
            return None, None
        return head[len("ref: refs/heads/"):], sha

    def branch(self, name: str, start: str | None = None) -> None:
        """Create branch ``name`` at ``start`` (default HEAD) without switching to it."""
        self.git("branch", name, *([start] if start else []))

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def head(self) -> str:
        return self.rev_parse("HEAD")

    def rev_parse(self, ref: str) -> str:
        return self.git("rev-parse", "--verify", f"{ref}^{{commit}}").stdout.strip()

    def show(self, ref: str, relpath: str) -> bytes:
        """The exact bytes of ``relpath`` in commit-ish ``ref``."""
        raw = subprocess.run(
            ["git", "cat-file", "blob", f"{ref}:{relpath}"],
            cwd=self.path,
            env=dict(self.env) if self.env is not None else None,
            capture_output=True,
            check=True,
            timeout=COMMAND_TIMEOUT,
        )
        return raw.stdout

    def current_branch(self) -> str:
        return self.git("rev-parse", "--abbrev-ref", "HEAD").stdout.strip()

    def status(self) -> str:
        """``git status --porcelain`` output."""
        return self.git("status", "--porcelain").stdout

    def conflicted(self) -> list[str]:
        """Paths git left unmerged."""
        out = self.git("diff", "--name-only", "--diff-filter=U").stdout
        return sorted(line for line in out.splitlines() if line)

    def ls_files(self, ref: str = "HEAD") -> list[str]:
        out = self.git("ls-tree", "-r", "--name-only", ref).stdout
        return sorted(line for line in out.splitlines() if line)

    def merge(
        self, name: str, expect_conflict: bool = False, message: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``git merge --no-edit name``; asserts it conflicts iff ``expect_conflict``."""
        args = ["merge", "--no-edit", *(["-m", message] if message else []), name]
        return self._maybe_conflicting(args, expect_conflict)

    def rebase(self, onto: str, expect_conflict: bool = False) -> subprocess.CompletedProcess[str]:
        return self._maybe_conflicting(["rebase", onto], expect_conflict)

    def cherry_pick(
        self, sha: str, expect_conflict: bool = False
    ) -> subprocess.CompletedProcess[str]:
        return self._maybe_conflicting(["cherry-pick", sha], expect_conflict)

    def _maybe_conflicting(
        self, args: list[str], expect_conflict: bool
    ) -> subprocess.CompletedProcess[str]:
        proc = self.git(*args, check=None)
        stopped = proc.returncode != 0
        if stopped != expect_conflict or (expect_conflict and not self.conflicted()):
            wanted = "a conflict" if expect_conflict else "a clean result"
            raise AssertionError(
                f"git {' '.join(args)}: expected {wanted}, got exit {proc.returncode}\n"
                f"{proc.stdout}{proc.stderr}\nstatus:\n{self.status()}"
            )
        return proc

    # ------------------------------------------------------- alembic content
    def add_revision(
        self,
        rev_id: str,
        down: RevRef,
        *,
        message: str,
        branch_labels: RevRef = None,
        depends_on: RevRef = None,
        versions: str = "migrations/versions",
        style: str = "typed",
        create_date: str | datetime.datetime | None = None,
        body: str | tuple[str, str] | None = None,
        newline: str = "\n",
    ) -> str:
        """Write a revision file as alembic would name and render it; returns its relpath.

        Without ``create_date`` each call gets a later date than the last, so
        ``Create Date`` order is the order revisions were added.
        """
        when = create_date if create_date is not None else self._next_create_date()
        text = render_revision(
            rev_id,
            down,
            message=message,
            branch_labels=branch_labels,
            depends_on=depends_on,
            style=style,
            create_date=when,
            body=body,
            newline=newline,
        )
        stamp = when if isinstance(when, datetime.datetime) else None
        relpath = f"{versions}/{revision_filename(rev_id, message, create_date=stamp)}"
        self.write(relpath, text)
        return relpath

    def commit_locked_revision(self, rev_id: str, down: RevRef, *, message: str) -> str:
        """``add_revision``, then ``revgraph lock``, both committed as ``message``; the file's relpath."""
        relpath = self.add_revision(rev_id, down, message=message)
        self.run("lock", check=True)
        self.commit(message)
        return relpath

    def commit_installed_base(self, rev_id: str, *, message: str) -> str:
        """``init_env``, a first revision ``rev_id`` and ``revgraph install`` (the merge driver
        and the lock file), committed on main as "base with revgraph"; the commit sha."""
        self.init_env(commit=False)
        self.add_revision(rev_id, None, message=message)
        self.run("install", check=True)
        return self.commit("base with revgraph")

    def _next_create_date(self) -> datetime.datetime:
        when = self.FIRST_CREATE_DATE + datetime.timedelta(minutes=7 * self._dates_issued)
        self._dates_issued += 1
        return when

    def init_env(self, *, script_template: str = "typed", commit: bool = True) -> str | None:
        """A minimal alembic environment (no revisions) committed on ``main``.

        alembic.ini (``script_location = %(here)s/migrations``), the example's
        env.py, a ``script.py.mako`` of ``script_template`` style and an empty
        ``migrations/versions`` folder (untracked: git keeps no empty folders).
        Returns the commit sha, or None with ``commit=False``.
        """
        self.write("alembic.ini", _MINIMAL_INI)
        self.write("migrations/env.py", (EXAMPLE_MIGRATIONS / "env.py").read_bytes())
        self.write("migrations/script.py.mako", TEMPLATES[script_template])
        (self.path / "migrations" / "versions").mkdir(parents=True, exist_ok=True)
        return self._commit_on_main("alembic environment") if commit else None

    def copy_example(self, *, commit: bool = True) -> str | None:
        """The bundled example (alembic.ini + migrations/ with its revisions), committed."""
        shutil.copyfile(REPO_ROOT / "alembic.ini", self.path / "alembic.ini")
        shutil.copytree(
            EXAMPLE_MIGRATIONS,
            self.path / "migrations",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.db"),
            dirs_exist_ok=True,
        )
        return self._commit_on_main("example alembic environment") if commit else None

    def _commit_on_main(self, message: str) -> str:
        branch, sha = self._head_from_files()
        if branch == "main":
            pass  # on main, with commits: what the checks below find, without two git processes
        elif self.git("rev-parse", "--verify", "-q", "HEAD", check=None).returncode == 0:
            if self.current_branch() != "main":
                raise AssertionError(f"expected to be on main, on {self.current_branch()}")
        return self.commit(message)

    # ------------------------------------------------------------ commands
    def run(
        self,
        *args: str,
        check: bool | int | None = None,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """The real CLI: ``python -m revgraph -C <repo> ARGS``.

        Runs from the repository's parent folder so that a command ignoring
        ``-C`` fails loudly instead of silently reading the current directory.
        ``check``: True = exit 0, an int = that exit code, None = any.
        """
        return _run(
            [sys.executable, "-m", "revgraph", "-C", str(self.path), *args],
            cwd=self.path.parent,
            env=env if env is not None else self.env,
            expect=check,
            input=input,
        )

    def alembic(self, *args: str, check: bool | int | None = True) -> subprocess.CompletedProcess[str]:
        """``python -m alembic ARGS`` in this repository."""
        return run_alembic(self.path, *args, check=check, env=self.env)
