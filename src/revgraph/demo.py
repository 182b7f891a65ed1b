"""``revgraph demo``: the main job, start to finish, on the bundled example.

Builds a throwaway git repository from the example environment that ships with
revgraph, makes two branches that both add a revision on the same head, lands
one of them on ``main`` and walks the other through check -> graph -> fix ->
check. Each ``revgraph`` step runs in-process through ``revgraph.api`` and the
renderers the CLI uses, and prints what that command prints; only git runs as
a subprocess. Needs no network and no database.

The demo's git world is sealed off from the user's: a fixed identity, no
global or system git config, no hooks, no CI base-branch variables. Nothing
outside the demo's own folder is written.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

from revgraph.errors import ConfigError, GitError, RevgraphError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from revgraph.api import Workspace
    from revgraph.findings import Report

MAIN = "main"
REPO_DIRNAME = "repo"
HTML_NAME = "graph.html"
IDENTITY = ("revgraph demo", "demo@revgraph.invalid")

# What would let the user's world leak into the demo's git commands: another
# repository (a demo started from a git hook), CI base-branch detection, dates.
_DROPPED_VARIABLES = (
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
)


# ----------------------------------------------------------------- the story
@dataclass(frozen=True)
class DemoRevision:
    """A revision one of the demo's feature branches adds."""

    branch: str
    rev_id: str
    message: str
    create_date: str
    upgrade: str
    downgrade: str

    @property
    def filename(self) -> str:
        # The example keeps alembic's default file_template, %(rev)s_%(slug)s.
        return f"{self.rev_id}_{'_'.join(self.message.split())}.py"

    def render(self, down_revision: str) -> str:
        """The file as the example's script.py.mako renders it."""
        return _REVISION_TEMPLATE.format(
            message=self.message,
            rev=self.rev_id,
            down=down_revision,
            date=self.create_date,
            upgrade=self.upgrade,
            downgrade=self.downgrade,
        )


_REVISION_TEMPLATE = '''\
"""{message}

Revision ID: {rev}
Revises: {down}
Create Date: {date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '{rev}'
down_revision: Union[str, Sequence[str], None] = '{down}'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
{upgrade}


def downgrade() -> None:
    """Downgrade schema."""
{downgrade}
'''

# Lands on main first: a teammate's pull request.
LANDED = DemoRevision(
    branch="feature/invoices",
    rev_id="c3d1a7e9b2f4",
    message="create invoices table",
    create_date="2024-03-11 09:12:40.118374",
    upgrade='''\
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
    )''',
    downgrade='    op.drop_table("invoices")',
)

# Yours: still on its branch when the demo starts.
YOURS = DemoRevision(
    branch="feature/labels",
    rev_id="e8f2b6a4d0c1",
    message="add labels to tasks",
    create_date="2024-03-12 16:03:05.527901",
    upgrade='''\
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.add_column(sa.Column("labels", sa.String(length=200), nullable=True))''',
    downgrade='''\
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_column("labels")''',
)

NEXT_STEPS = (
    ("revgraph install", "once per clone: merge driver + heads lock file, so git stops at the merge"),
    ("revgraph doctor", "before a pull request: what is wrong, why, and the command that fixes it"),
    ("revgraph check --base origin/main --format github", "the CI required check (docs/ci.md)"),
    ("revgraph graph --format html -o graph.html", "a picture of the new revisions for review"),
)


# ------------------------------------------------------------ the example
def find_example(package_dir: Path | None = None) -> Path:
    """The folder holding the bundled example's ``alembic.ini`` and ``migrations/``.

    In a wheel it is ``revgraph/_example`` (pyproject's force-include); in a
    checkout or an editable install, the repository root next to ``src/``.
    """
    if package_dir is None:
        import revgraph

        package_dir = Path(revgraph.__file__).resolve().parent
    candidates = (package_dir / "_example", package_dir.parents[1])
    for folder in candidates:
        if _is_example(folder):
            return folder
    looked = " and ".join(str(c) for c in candidates)
    raise ConfigError(
        f"the bundled example (alembic.ini + migrations/) is not installed with revgraph; looked in {looked}",
        hint="reinstall revgraph from its source tree: python3 -m pip install .",
    )


def check_example(folder: Path) -> Path:
    """``folder`` if it holds an example environment (``--example``), else a ConfigError."""
    if not _is_example(folder):
        raise ConfigError(f"--example {folder}: expected alembic.ini and migrations/versions/ in it")
    return folder.resolve()


def _is_example(folder: Path) -> bool:
    return (folder / "alembic.ini").is_file() and (folder / "migrations" / "versions").is_dir()


def _copy_example(example: Path, repo: Path) -> None:
    shutil.copyfile(example / "alembic.ini", repo / "alembic.ini")
    shutil.copytree(
        example / "migrations",
        repo / "migrations",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "*.db"),
    )


# ------------------------------------------------------------ git, sealed
def demo_environ(base: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Variables to set (str) or remove (None) for the demo's git world.

    Identity through the environment, so a missing ``user.name`` does not
    matter; no global or system config, so the user's signing, hooks and
    aliases stay out; no CI variables, so the base is the demo's own ``main``.
    """
    from revgraph.api import CI_BASE_VARIABLES

    base = os.environ if base is None else base
    changes: dict[str, str | None] = {name: None for name in (*_DROPPED_VARIABLES, *CI_BASE_VARIABLES)}
    name, email = IDENTITY
    changes.update(
        {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_EDITOR": ":",  # git runs no editor for ":" (merge --continue)
            "GIT_MERGE_AUTOEDIT": "no",
            "GIT_PAGER": "cat",
        }
    )
    return {k: v for k, v in changes.items() if v is not None or k in base}


@contextmanager
def patched_environ(changes: Mapping[str, str | None]) -> Iterator[None]:
    """Apply ``changes`` to ``os.environ`` (the in-process steps' git sees them); undo after."""
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class DemoGit:
    """git in the demo repository; the environment is already sealed by ``patched_environ``."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo

    def __call__(self, *args: str) -> str:
        # For a git older than GIT_CONFIG_GLOBAL (2.32): the settings that would stop us.
        hooks = self.repo / ".git" / "hooks"
        argv = [
            "git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false",
            "-c", f"core.hooksPath={hooks}", *args,
        ]
        try:
            done = subprocess.run(
                argv, cwd=self.repo, capture_output=True, stdin=subprocess.DEVNULL, timeout=120, check=False
            )
        except FileNotFoundError:
            raise GitError("the demo needs git, and git is not installed (or not on PATH)") from None
        except subprocess.TimeoutExpired:
            raise GitError(f"git {' '.join(args)} did not finish in 120 s") from None
        output = (done.stdout + done.stderr).decode("utf-8", "replace")
        if done.returncode != 0:
            raise GitError(f"git {' '.join(args)} failed (exit {done.returncode}): {output.strip()}")
        return output

    def init(self) -> None:
        self.repo.mkdir(parents=True)
        # --template=: no sample or user-installed hooks; symbolic-ref: a git
        # too old for init.defaultBranch still ends up on main.
        self("-c", f"init.defaultBranch={MAIN}", "init", "-q", "--template=", ".")
        self("symbolic-ref", "HEAD", f"refs/heads/{MAIN}")

    def commit_all(self, message: str) -> None:
        self("add", "-A")
        self("commit", "-q", "--no-verify", "-m", message)


# ---------------------------------------------------------------- results
@dataclass
class DemoResult:
    repo: Path
    html: Path
    kept: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Scene:
    """What the repository looks like before the steps start."""

    versions: str  # the example's versions folder, relative to the repo
    revisions: int  # in the example
    parent: str  # the head both branches add a revision on
    other_heads: tuple[str, ...]  # the example's labelled heads, which stay


# ------------------------------------------------------------------- demo
def run_demo(
    console: "Console",
    *,
    color: bool,
    keep: bool = False,
    directory: Path | None = None,
    verbose: bool = False,
    no_cache: bool = False,
    example: Path | None = None,
) -> DemoResult:
    """Run the whole demo, printing as it goes; the caller maps ``ok`` to the exit code.

    ``directory``: where to build (must not exist or be empty); default a new
    temporary folder. Without ``keep`` the folder is deleted at the end.
    """
    example = example or find_example()
    work, created = _work_folder(directory)
    demo = _Demo(console, color, work, verbose=verbose, no_cache=no_cache)
    result = DemoResult(demo.repo, demo.html, keep)
    try:
        with patched_environ(demo_environ()):
            demo.run(example)
    except RevgraphError as exc:
        demo.problems.append(f"{exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
    finally:
        if not keep:
            _remove(work, created)
    result.problems = list(demo.problems)
    demo.finish(result)
    return result


def _work_folder(directory: Path | None) -> tuple[Path, bool]:
    """The demo's folder and whether we created it (only then is it removed whole)."""
    if directory is None:
        return Path(tempfile.mkdtemp(prefix="revgraph-demo-")).resolve(), True
    directory = Path(directory).absolute()
    # Where the folder cannot be used (a file in its path, no permission), the user
    # can change that: a usage error (exit 2) naming it, never "internal error".
    hint = "name an empty folder, or one that does not exist yet"
    if directory.exists():
        try:
            used = not directory.is_dir() or any(directory.iterdir())
        except OSError as exc:
            raise UsageError(f"--dir {directory}: cannot read it: {_why(exc)}", hint=hint) from None
        if used:
            raise UsageError(f"--dir {directory}: must be an empty folder or not exist yet")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise UsageError(f"--dir {directory}: cannot write in it: permission denied", hint=hint)
        return directory.resolve(), False
    try:
        directory.mkdir(parents=True)
    except OSError as exc:
        file = next((parent for parent in directory.parents if parent.is_file()), None)
        why = f"{file} is a file, not a folder" if file is not None else _why(exc)
        raise UsageError(f"--dir {directory}: cannot create it: {why}", hint=hint) from None
    return directory.resolve(), True


def _why(exc: OSError) -> str:
    """``Permission denied`` as a message goes on: ``permission denied``."""
    why = exc.strerror or str(exc)
    return why[:1].lower() + why[1:]


def _remove(work: Path, created: bool) -> None:
    if created:
        _rmtree(work)
        return
    for child in work.iterdir():
        if child.is_dir() and not child.is_symlink():
            _rmtree(child)
        else:
            child.unlink()


def _rmtree(path: Path) -> None:
    def force(func, target, _exc):  # git makes its objects read-only on some systems
        os.chmod(target, 0o700)
        func(target)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=force)
    else:  # pragma: no cover - exercised on 3.10/3.11
        shutil.rmtree(path, onerror=force)


class _Demo:
    def __init__(self, console: "Console", color: bool, work: Path, *, verbose: bool, no_cache: bool) -> None:
        self.console = console
        self.color = color
        self.verbose = verbose
        self.no_cache = no_cache
        self.repo = work / REPO_DIRNAME
        self.html = work / HTML_NAME
        self.git = DemoGit(self.repo)
        self.problems: list[str] = []
        self.mark_ok, self.mark_bad = _marks(console)
        self._after_output = False  # a blank line goes between command output and prose

    # -------------------------------------------------------------- driver
    def run(self, example: Path) -> None:
        self.say(
            "[bold]revgraph demo[/bold]: two branches add a migration on the same head; "
            "revgraph catches it before the merge and fixes it without moving what has landed."
        )
        scene = self.set_scene(example)
        steps = (self.step_check_before, self.step_graph, self.step_fix, self.step_check_after)
        for number, step in enumerate(steps, 1):
            if not self._run_step(step, number, len(steps), scene):
                if number < len(steps):
                    self.problems.append(f"stopped after step {number}: the later steps build on it")
                return
        self.next_steps()

    def _run_step(self, step, number: int, total: int, scene: Scene) -> bool:
        try:
            return step(number, total, scene)
        except RevgraphError as exc:
            # What the CLI would print for the same command, then why the demo stops.
            self._flush()
            self.console.print(f"revgraph: error: {exc.message}", markup=False, highlight=False)
            if exc.hint:
                self.console.print(f"  hint: {exc.hint}", markup=False, highlight=False)
            return self.expect(False, "", f"step {number}: {exc.message}")

    def finish(self, result: DemoResult) -> None:
        self._after_output = False
        self.console.print()
        if result.kept and result.repo.is_dir():
            self.say(f"kept the demo repository: {result.repo}", markup=False)
            self.say(f"  try: revgraph -C {shlex.quote(str(result.repo))} check --base {MAIN}", markup=False)
            if result.html.is_file():
                self.say(f"  and open {result.html} in a browser", markup=False)
        elif not result.kept:
            self.say(
                "the demo repository and its graph.html were deleted; run [bold]revgraph demo --keep[/bold] "
                "to explore them"
            )
        if result.ok:
            self.say(f"[green]{self.mark_ok}[/green] demo complete: every step came out as expected")
            return
        self.say(f"[red]{self.mark_bad} the demo did not go as expected:[/red]")
        for problem in result.problems:
            self.console.print(f"  - {problem}", markup=False)

    # ---------------------------------------------------------------- scene
    def set_scene(self, example: Path) -> Scene:
        self.git.init()
        _copy_example(example, self.repo)
        self.git.commit_all("the bundled example: an alembic environment and its revisions")
        scene = self._read_scene()
        versions = self.repo / scene.versions
        for revision in (LANDED, YOURS):
            self.git("checkout", "-q", "-b", revision.branch, MAIN)
            (versions / revision.filename).write_text(revision.render(scene.parent), encoding="utf-8")
            self.git.commit_all(revision.message)
        self.git("checkout", "-q", MAIN)
        self.git("merge", "-q", "--no-ff", "--no-edit", "--no-verify", LANDED.branch)
        self.git("checkout", "-q", YOURS.branch)
        self._print_scene(scene)
        return scene

    def _read_scene(self) -> Scene:
        from revgraph import api

        with self.workspace() as ws:
            graph = api.heads(ws)[0].graph
            versions = ws.environments[0].versions_relative_to(ws.root)[0]
        unlabelled = [h for h in graph.heads if not graph.labels_of(h)]
        if len(unlabelled) != 1:
            raise ConfigError(
                f"the bundled example should have one unlabelled head, it has {len(unlabelled)}: "
                + (", ".join(unlabelled) or "none")
            )
        others = tuple(h for h in graph.heads if h != unlabelled[0])
        return Scene(versions, len(graph), unlabelled[0], others)

    def _print_scene(self, scene: Scene) -> None:
        self.section("The scene")
        self.say(f"A throwaway git repository in {self.repo}:", markup=False)
        labelled = f" (plus {', '.join(scene.other_heads)} on its own branch label)" if scene.other_heads else ""
        rows = (
            (MAIN, f"the bundled example: {scene.revisions} revisions, head {scene.parent}{labelled}"),
            (LANDED.branch, f"adds {LANDED.rev_id} {LANDED.message!r} on {scene.parent}"),
            (YOURS.branch, f"adds {YOURS.rev_id} {YOURS.message!r} on {scene.parent}"),
            (MAIN, f"{LANDED.branch} is merged: {LANDED.rev_id} has landed"),
        )
        width = max(len(name) for name, _ in rows)
        for name, text in rows:
            self.console.print(f"  {name:<{width}}  {text}", markup=False, highlight=False)
        self.say(f"You are on [bold]{YOURS.branch}[/bold], about to open a pull request.")

    # ---------------------------------------------------------------- steps
    def step_check_before(self, number: int, total: int, scene: Scene) -> bool:
        self.step_header(number, total, "check before you merge")
        self.say(
            f"git sees no conflict: {YOURS.rev_id} and {LANDED.rev_id} are different files. "
            f"But both revise {scene.parent}, so after the merge {MAIN} would have one head too many and "
            "`alembic upgrade head` would fail at deploy time. revgraph predicts the merge:"
        )
        report, code = self.check()
        found = [f for f in report.findings if f.code == "RG102"]
        return self.expect(
            bool(found) and code == 1,
            f"RG102 found before merging (exit {code}: as a CI check, this blocks the pull request)",
            f"expected RG102 and exit 1, got {_codes(report)} and exit {code}",
        )

    def step_graph(self, number: int, total: int, scene: Scene) -> bool:
        self.step_header(number, total, "look at it")
        self.say("The fork, drawn in the terminal (new and landed revisions, and the re-pointing the fix proposes):")
        views = self.graph_tree()
        self.say("The same picture as a self-contained HTML page, for a pull request or a browser:")
        self.graph_html(views)
        drawn = any(_marked(v, YOURS.rev_id, "new") and _marked(v, LANDED.rev_id, "landed") for v in views)
        return self.expect(
            drawn and self.html.is_file(),
            f"the fork is drawn; HTML written to {self.html}",
            f"expected {YOURS.rev_id} drawn as new, {LANDED.rev_id} as landed, and {self.html} written",
        )

    def step_fix(self, number: int, total: int, scene: Scene) -> bool:
        self.step_header(number, total, "fix it")
        self.say(
            f"`revgraph fix` edits your working tree, so bring {MAIN} in first. git merges the "
            "two files without complaint, and your branch now has both heads. (--no-commit stops "
            "before committing, as git stops at a conflict once `revgraph install` has set up "
            "the merge driver.)"
        )
        self.run_git("merge", "--no-commit", MAIN)
        self.say(
            f"Who moves is decided by what has landed, never by git's ours/theirs: {LANDED.rev_id} "
            f"is on {MAIN} (it may already run in production), so it stays; your {YOURS.rev_id} is "
            "re-pointed onto it. Only its down_revision and its Revises: line change:"
        )
        outcome = self.fix()
        moved = [m for m in outcome.plan.moves if m.revision == YOURS.rev_id]
        ok = self.expect(
            bool(moved) and moved[0].new_down == (LANDED.rev_id,) and bool(outcome.written),
            f"{YOURS.rev_id} re-pointed onto {LANDED.rev_id}; {LANDED.rev_id} untouched",
            f"expected {YOURS.rev_id} to move onto {LANDED.rev_id}, got moves "
            f"{[(m.revision, m.new_down) for m in outcome.plan.moves]}",
        )
        if ok:
            self.say("revgraph staged the file; finish the merge as git says:")
            self.run_git("merge", "--continue")
        return ok

    def step_check_after(self, number: int, total: int, scene: Scene) -> bool:
        self.step_header(number, total, "check again")
        report, code = self.check()
        return self.expect(
            not report.findings and code == 0,
            f"clean: one head per line, {YOURS.branch} merges into {MAIN} without a second head",
            f"expected no findings and exit 0, got {_codes(report)} and exit {code}",
        )

    def next_steps(self) -> None:
        self.section("In your own repository")
        width = max(len(command) for command, _ in NEXT_STEPS)
        for command, why in NEXT_STEPS:
            self.console.print(f"  {command:<{width}}  # {why}", markup=False, highlight=False)
        self.say("Docs: docs/getting-started.md, docs/usage.md and docs/ci.md in revgraph's repository.")

    # ------------------------------------------- revgraph, as the CLI prints it
    def workspace(self) -> "Workspace":
        from revgraph.api import Options, Workspace

        return Workspace(Options(cwd=self.repo, no_cache=self.no_cache))

    def check(self) -> tuple["Report", int]:
        """``revgraph check``: the CLI's text report and its exit code."""
        from revgraph import api
        from revgraph.cli import _emit
        from revgraph.render import render_report
        from revgraph.rules import selected_rules

        self.show_command("revgraph check")
        with self.workspace() as ws:
            report = api.check(ws)
        text = render_report(
            "text", report, color=self.color, verbose=self.verbose, strict=False,
            mermaid=None, doctor=False, selected=selected_rules((), ()),
        )
        self._flush()
        _emit(text, None)
        return report, 1 if report.failed(False) else 0

    def graph_tree(self) -> list:
        """``revgraph graph``: the focused views, drawn as the graph command draws them."""
        from revgraph.render.graphview import render_graph

        self.show_command("revgraph graph")
        views = self._graph_views()
        if self.color:
            from revgraph.render.tree import tree_renderable

            for view in views:
                self.console.print(tree_renderable(view))
        else:
            from revgraph.cli import _emit

            self._flush()
            _emit("\n".join(str(render_graph(view, "tree")) for view in views), None)
        return views

    def graph_html(self, views: list) -> None:
        from revgraph.render.graphview import render_graph

        self.show_command(f"revgraph graph --format html -o {self.html}")
        text = "\n".join(str(render_graph(view, "html")) for view in views)
        self.html.write_text(text, encoding="utf-8")
        self.console.print(f"wrote {self.html}", markup=False)

    def _graph_views(self) -> list:
        """What `revgraph graph` draws: every environment, focused on the new revisions."""
        from revgraph import api
        from revgraph.render.graphview import default_focus, focus

        views = []
        with self.workspace() as ws:
            findings = api.check(ws).findings
            for env in ws.environments:
                view = api.graph_view(ws, env, findings=findings)
                views.append(focus(view, default_focus(view), 2))
        return views

    def fix(self):
        """``revgraph fix``: the diff and the summary the CLI prints."""
        from revgraph import api
        from revgraph.cli import _print_fix

        self.show_command("revgraph fix")
        with self.workspace() as ws:
            outcome = api.fix(ws)
        self._flush()
        _print_fix(outcome)
        return outcome

    def run_git(self, *args: str) -> None:
        self.show_command("git " + " ".join(args))
        output = self.git(*args)
        if output.strip():
            self.console.print(output.rstrip("\n"), markup=False, highlight=False)

    # ------------------------------------------------------------- printing
    def section(self, title: str) -> None:
        self._after_output = False
        self.console.print()
        self.console.rule(f"[bold]{title}[/bold]", align="left")

    def step_header(self, number: int, total: int, title: str) -> None:
        self.section(f"Step {number}/{total}: {title}")

    def say(self, text: str, *, markup: bool = True) -> None:
        if self._after_output:
            self.console.print()
            self._after_output = False
        # Prose wraps at the terminal's width; command output never does.
        self.console.print(text, markup=markup, highlight=False, soft_wrap=False)

    def show_command(self, command: str) -> None:
        self.console.print()
        self.console.print(f"[bold cyan]$ {_escape(command)}[/bold cyan]", highlight=False)
        self._after_output = True

    def expect(self, passed: bool, success: str, failure: str) -> bool:
        if passed:
            self.console.print(f"[green]{self.mark_ok} {_escape(success)}[/green]", highlight=False)
        else:
            self.console.print(f"[red]{self.mark_bad} {_escape(failure)}[/red]", highlight=False)
            self.problems.append(failure)
        return passed

    def _flush(self) -> None:
        # The renderers write to sys.stdout directly, as the CLI does; keep the order.
        self.console.file.flush()


def _marks(console: "Console") -> tuple[str, str]:
    encoding = (getattr(console, "encoding", "") or "").lower()
    return ("✓", "✗") if encoding.startswith("utf") else ("ok:", "FAILED:")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _marked(view, rid: str, mark: str) -> bool:
    return rid in view and mark in view.node(rid).marks


def _codes(report: "Report") -> str:
    codes = sorted({f.code for f in report.findings})
    return ", ".join(codes) if codes else "no findings"


__all__ = ["run_demo", "find_example", "check_example", "demo_environ", "patched_environ", "DemoResult", "LANDED", "YOURS"]
