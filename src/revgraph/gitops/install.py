"""``revgraph install`` / ``uninstall``: wires git config, ``.gitattributes``,
pre-commit, alembic's ``post_write_hooks`` and the lock file (PRODUCT §5).

Every file is edited textually, never re-serialised: the user's bytes,
comments and newline style stay. What we add is preceded by a marker comment
(``# revgraph: ...``) that also records whether we created the file or
section, so that ``uninstall`` removes exactly our lines and restores what was
there. Text edits are pure functions (``add_*`` / ``remove_*``); ``install`` and
``uninstall`` plan them, write files through ``fixes.apply`` (atomic, all or
nothing) and set git config through ``git config --local``.

Why the driver command looks the way it does (checked against git 2.39 and
git's ll-merge.c): git runs ``merge.<name>.driver`` through ``sh -c`` after
replacing ``%O %A %B`` with temporary names it makes (``.merge_file_XXXXXX``)
and ``%P`` with the path *already shell-quoted* (``sq_quote_buf``, since
``%P`` exists). So the placeholders go in bare: quoting them again would undo
git's quoting and let a path such as ``$(touch x)`` run. The program part is
shell-quoted by us. It is never ``python -m revgraph``: ``-m`` puts the
working directory (the repository, possibly holding the branch being merged)
first on ``sys.path``, so a ``revgraph/`` folder there would run code from
either side.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import sysconfig
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from revgraph.errors import ConfigError, RevgraphError, WriteError
from revgraph.lockfile import POST_WRITE_ENTRYPOINT

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.api import Workspace
    from revgraph.config import Environment

DRIVER_NAME = "revgraph"
DRIVER_LABEL = "revgraph heads lock"
DRIVER_ARGS = "merge-driver %O %A %B %P %L"
CONFIG_KEYS = (f"merge.{DRIVER_NAME}.name", f"merge.{DRIVER_NAME}.driver")

GITATTRIBUTES = ".gitattributes"
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
HOOK_NAME = "revgraph_lock"
HOOK_ENTRYPOINT = POST_WRITE_ENTRYPOINT
PRE_COMMIT_HOOK_IDS = ("revgraph-lock", "revgraph-check")

_ATTRIBUTE = f"merge={DRIVER_NAME}"


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class Change:
    """One thing install/uninstall changed (or would change, in a dry run)."""

    target: str  # a repo-relative path, or "git config"
    description: str

    def __str__(self) -> str:
        return f"{self.target}: {self.description}"


@dataclass
class InstallResult:
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    diff: str = ""  # unified diff of the file edits (shown in a dry run)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.changes)


# ------------------------------------------------------------------ markers
def _marker(what: str, created: bool, unit: str = "file") -> str:
    how = f"{unit} created by" if created else "added by"
    return f"# revgraph: {what} ({how} `revgraph install`)"


def _marker_kind(line: str, what: str) -> bool | None:
    """None: not our marker; True: we created the file/section; False: we added to it."""
    text = line.strip()
    if not text.startswith(f"# revgraph: {what} ("):
        return None
    return "created by" in text


_ATTR_WHAT = "heads lock merge driver"
_ENDED_LINE_ABOVE = "; it ended the line above"
_PRE_COMMIT_WHAT = "heads lock hooks"
_INI_WHAT = "keeps the heads lock current"


def _noting_ended_above(marker: str) -> str:
    """``marker`` noting that install ended the line above it, so that uninstall takes
    that newline away again (as it is when it notes it already, or does not end in ")")."""
    if _ENDED_LINE_ABOVE in marker or not marker.endswith(")"):
        return marker
    return marker[:-1] + _ENDED_LINE_ABOVE + ")"


# ------------------------------------------------------------ text helpers
def _lines(text: str) -> list[str]:
    """Lines with their own terminators (only ``\\n`` splits: a lone ``\\r`` is content)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _newline(text: str | None) -> str:
    return "\r\n" if text and "\r\n" in text else "\n"


def _bare(line: str) -> str:
    # A BOM before the first line ("\ufeffrepos:") hid the key it starts: the
    # pre-commit config then gained a second `repos:`, and YAML keeps the last.
    return line.rstrip("\r\n").lstrip("\ufeff")


def _terminated(lines: list[str], nl: str) -> list[str]:
    """``lines`` with a newline after the last one, so more can follow."""
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1] + [lines[-1] + nl]
    return lines


# ------------------------------------------------------- the driver command
def driver_command() -> str:
    """The ``merge.revgraph.driver`` value: this very revgraph, placeholders bare.

    This interpreter's ``revgraph`` console script by absolute path: git runs
    the driver with whatever PATH the merging program has (an IDE, a GUI, a
    shell where the virtualenv is not active, a pyenv shim that picks another
    Python), and a driver that is not found turns every lock merge into an
    unexplained conflict. Re-run ``revgraph install`` after moving the
    virtualenv. Without a console script: this interpreter with ``-c``,
    dropping the working directory from ``sys.path`` (see the module
    docstring for why not ``-m``).
    """
    script = _own_console_script()
    if script is not None:
        return f"{shlex.quote(str(script))} {DRIVER_ARGS}"
    code = "import sys; sys.path[:] = [p for p in sys.path if p]; from revgraph.entry import main; main()"
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)} {DRIVER_ARGS}"


def _own_console_script() -> Path | None:
    names = ("revgraph.exe", "revgraph") if os.name == "nt" else ("revgraph",)
    folders = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    for folder in folders:
        for name in names:
            candidate = Path(folder) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    return None


# ------------------------------------------------------------ .gitattributes
_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")
_NEEDS_C_QUOTE = re.compile(r'[\s"\x00-\x1f\x7f]')
_C_ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def attribute_pattern(relpath: str) -> str:
    """A ``.gitattributes`` pattern matching exactly the repo-relative ``relpath``.

    Glob characters are escaped; a name without a slash is anchored with a
    leading ``/`` (else it would match at any depth); whitespace, quotes and
    control characters make the pattern C-quoted, as gitattributes documents.
    """
    pattern = _GLOB_SPECIAL.sub(r"\\\1", relpath)
    if "/" not in relpath.strip("/"):
        pattern = "/" + pattern
    elif pattern[:1] in ("#", "!"):
        pattern = "\\" + pattern  # else a comment, or a (forbidden) negative pattern
    if not _NEEDS_C_QUOTE.search(pattern):
        return pattern
    quoted = "".join(_C_ESCAPES.get(ch, f"\\{ord(ch):03o}" if ord(ch) < 32 or ord(ch) == 127 else ch) for ch in pattern)
    return f'"{quoted}"'


def attribute_line(relpath: str) -> str:
    return f"{attribute_pattern(relpath)} {_ATTRIBUTE}"


def _is_driver_line(line: str) -> bool:
    parts = _bare(line).strip().rsplit(None, 1)
    return len(parts) == 2 and parts[1] == _ATTRIBUTE


def add_attribute_lines(text: str | None, entries: Sequence[str]) -> str | None:
    """``text`` with the ``entries`` lines our marker block lacks; ``text`` itself when none."""
    lines = _lines(text or "")
    present = {_bare(line).strip() for line in lines}
    missing = [entry for entry in entries if entry not in present]
    if not missing:
        return text
    nl = _newline(text)
    block = [entry + nl for entry in missing]
    start = next((i for i, line in enumerate(lines) if _marker_kind(line, _ATTR_WHAT) is not None), None)
    if start is None:
        marker = _marker(_ATTR_WHAT, created=text is None)
        if lines and not lines[-1].endswith("\n"):
            marker = _noting_ended_above(marker)
        block.insert(0, marker + nl)
        return "".join(_terminated(lines, nl) + block)
    end = start + 1
    while end < len(lines) and _is_driver_line(lines[end]):
        end += 1
    head = _terminated(lines[:end], nl)
    return "".join(head + block + lines[end:])


def remove_attribute_lines(text: str, entries: Iterable[str]) -> str | None:
    """``text`` without ``entries`` and, once none of its lines is left, our marker
    block; None when the file should go.

    The block may hold other projects' lines too (a monorepo: each service's
    install adds its lock file to the one top ``.gitattributes``): those stay,
    under the marker, and so does the file (a tester: uninstall in one service
    removed every service's driver).
    """
    wanted = set(entries)
    kept: list[str] = []
    created = False
    marker: str | None = None  # our block's marker line, while its lines are read
    others: list[str] = []  # the block's lines that are not ``entries``
    unterminate_at: int | None = None  # the line install ended, while nothing follows our block

    def close_block() -> None:
        nonlocal marker
        if marker is not None and others:
            kept.extend([marker, *others])
        marker = None
        others.clear()

    for line in _lines(text):
        kind = _marker_kind(line, _ATTR_WHAT)
        if kind is not None:
            close_block()
            created = created or kind
            marker = line
            if _ENDED_LINE_ABOVE in line and kept:
                unterminate_at = len(kept) - 1
            continue
        if marker is not None and _is_driver_line(line):
            if _bare(line).strip() not in wanted:
                others.append(line)
            continue
        close_block()
        if _bare(line).strip() in wanted:
            continue
        kept.append(line)
        unterminate_at = None  # a line after the block: the ended line needs its newline
    if others:
        unterminate_at = None  # the block stays, after the ended line
    close_block()
    if unterminate_at is not None:  # (it is the last kept line: any line after the block cleared it)
        kept[-1] = _bare(kept[-1])
    result = "".join(kept)
    if created and not result.strip():
        return None
    return result


# ------------------------------------------------------ .pre-commit-config.yaml
def _yaml_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def pre_commit_files_regex(version_dirs: Sequence[str], lock_files: Sequence[str]) -> str:
    """Which changed files should run the hooks: revision files and lock files."""
    parts = [(re.escape(d) + "/" if d else "") + r".*\.py" for d in version_dirs]
    parts += [re.escape(lock) for lock in lock_files]
    return "^(" + "|".join(dict.fromkeys(parts)) + ")$" if parts else r"\.py$"


def pre_commit_hook_ids(project_dir: str = "") -> tuple[str, ...]:
    """The hook ids for the project in ``project_dir`` (relative to the work tree's top).

    A monorepo's services each get their own pair (``revgraph-lock-services-api``),
    so installing in a second service adds its hooks instead of finding the first's.
    """
    if not project_dir:
        return PRE_COMMIT_HOOK_IDS
    suffix = re.sub(r"[^\w.]+", "-", project_dir).strip("-")
    return tuple(f"{hook_id}-{suffix}" for hook_id in PRE_COMMIT_HOOK_IDS)


# What the check hook asks at commit time: the graph of this commit, not the merge
# with base. RG102 (the merge would fork) is satisfied only by merging base,
# which git refuses with the work still staged: at commit time it only blocked
# (CI's check reports it). The cosmetic rules (RG402, RG403) on files the commit
# does not touch are CI's and doctor's business too. -q: silent when it passes.
CHECK_HOOK_ARGS = "check -q --select RG101,RG103,RG104,RG105,RG106,RG107,RG401"
# What revgraph wrote before: `install --pre-commit` replaces exactly this.
_OLD_CHECK_HOOK_ARGS = ("check --select RG1,RG4",)


def _pre_commit_hook_lines(hook_id: str, files: str, project_dir: str = "") -> list[str]:
    # pre-commit runs hooks at the top of the work tree: a project below it is
    # named with -C, or revgraph would find no project there.
    revgraph = f"revgraph -C {shlex.quote(project_dir)}" if project_dir else "revgraph"
    if hook_id.startswith("revgraph-lock"):
        fields = [
            ("name", "revgraph lock (the heads lock file is current)"),
            ("entry", f"{revgraph} lock"),
        ]
    else:
        fields = [
            ("name", "revgraph check (one head, readable revisions, current lock)"),
            ("entry", f"{revgraph} {CHECK_HOOK_ARGS}"),
        ]
    if project_dir:
        fields[0] = ("name", f"{fields[0][1]} in {project_dir}")
    lines = [f"- id: {hook_id}"]
    lines += [f"  {key}: {value}" for key, value in fields]
    # system: the revgraph installed in the project's own environment, so the
    # hook and the developer run the same version.
    lines += ["  language: system", "  pass_filenames: false", f"  files: {_yaml_quote(files)}"]
    return lines


_HOOK_ID = re.compile(r"^\s*(?:-\s+)?id:\s*['\"]?(?P<id>[\w.-]+)['\"]?\s*(?:#.*)?$")
_REPOS_KEY = re.compile(r"^repos\s*:\s*(?P<rest>[^#]*?)\s*(?:#.*)?$")


def _present_hook_ids(lines: Sequence[str]) -> set[str]:
    found = set()
    for line in lines:
        m = _HOOK_ID.match(_bare(line))
        if m:
            found.add(m.group("id"))
    return found


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def add_pre_commit_hooks(text: str | None, files: str, project_dir: str = "") -> str | None:
    """``text`` with a ``repo: local`` entry for the missing revgraph hooks (appended, not re-serialised)."""
    lines = _lines(text or "")
    missing = [h for h in pre_commit_hook_ids(project_dir) if h not in _present_hook_ids(lines)]
    if not missing:
        return text
    nl = _newline(text)
    repos_at = next((i for i, line in enumerate(lines) if _REPOS_KEY.match(_bare(line))), None)
    if repos_at is not None and _REPOS_KEY.match(_bare(lines[repos_at])).group("rest") == "[]":
        # The empty list as most configs start (and uninstall leaves it): a block list now.
        line = lines[repos_at]
        lines = [*lines[:repos_at], line.replace("[]", "", 1).replace("repos: ", "repos:", 1), *lines[repos_at + 1 :]]
    if repos_at is not None and _REPOS_KEY.match(_bare(lines[repos_at])).group("rest"):
        raise ConfigError(
            f"{PRE_COMMIT_CONFIG}: `repos:` is written in flow style; revgraph will not rewrite it",
            hint="add the revgraph hooks by hand (see docs/ci.md)",
        )
    if repos_at is None:
        lines = _terminated(lines, nl) + ["repos:" + nl]
        repos_at = len(lines) - 1
    end, indent = _repos_block_end(lines, repos_at)
    pad = " " * indent
    marker = _marker(_PRE_COMMIT_WHAT, created=text is None)
    if end == len(lines) and lines and not lines[-1].endswith("\n"):
        marker = _noting_ended_above(marker)
    item = [marker, "- repo: local", "  hooks:"]
    for hook_id in missing:
        item += ["    " + line for line in _pre_commit_hook_lines(hook_id, files, project_dir)]
    block = [pad + line + nl for line in item]
    head = _terminated(lines[:end], nl)
    return "".join(head + block + lines[end:])


_FILES_KEY = re.compile(r"^(?P<lead>\s*files:\s*)(?P<value>.*?)(?P<tail>\s*(?:#.*)?)$")


def refresh_pre_commit_files(text: str, files: str, project_dir: str = "") -> str:
    """``text`` with the ``files`` pattern of this project's revgraph hooks widened to ``files``.

    A project that gains an environment (another alembic.ini section, a new
    ``[tool.revgraph.environments]`` entry) needs its new folders in the pattern,
    or the hooks never run for them. Only a pattern revgraph wrote for fewer
    folders (its parts a subset of the new ones) is replaced: one a person
    edited otherwise is theirs.
    """
    wanted = _yaml_quote(files)
    new_parts = _pattern_parts(files)

    def widened(value: str) -> str | None:
        old_parts = _pattern_parts(_yaml_unquote(value))
        return wanted if old_parts is not None and new_parts is not None and old_parts < new_parts else None

    return _edit_our_hooks(text, project_dir, _FILES_KEY, widened)


_ENTRY_KEY = re.compile(r"^(?P<lead>\s*entry:\s*)(?P<value>[^#]*?)(?P<tail>\s*(?:#.*)?)$")


def refresh_pre_commit_entry(text: str, project_dir: str = "") -> str:
    """``text`` with this project's check hook's entry brought up to ``CHECK_HOOK_ARGS``,
    when it is exactly what an older revgraph wrote (one a person edited is theirs)."""
    revgraph = f"revgraph -C {shlex.quote(project_dir)}" if project_dir else "revgraph"
    old_entries = {f"{revgraph} {args}" for args in _OLD_CHECK_HOOK_ARGS}
    current = f"{revgraph} {CHECK_HOOK_ARGS}"
    return _edit_our_hooks(text, project_dir, _ENTRY_KEY, lambda value: current if value in old_entries else None)


def _edit_our_hooks(
    text: str, project_dir: str, key: re.Pattern[str], new_value: Callable[[str], str | None]
) -> str:
    """``text`` with ``key``'s value in this project's revgraph hooks replaced where
    ``new_value`` gives one; every other line (other repos' hooks too) as it was."""
    ours = set(pre_commit_hook_ids(project_dir))
    out: list[str] = []
    hook = None
    for line in _lines(text):
        body = _bare(line)
        found = _HOOK_ID.match(body)
        if found:
            hook = found.group("id")
        elif body.strip().startswith("- repo:"):
            hook = None
        m = key.match(body) if hook in ours else None
        value = new_value(m.group("value")) if m else None
        if value is not None and value != m.group("value"):
            line = m.group("lead") + value + m.group("tail") + line[len(body):]
        out.append(line)
    return "".join(out)


def _yaml_unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def _pattern_parts(pattern: str) -> frozenset[str] | None:
    """The alternatives of a ``^(a|b)$`` pattern as ``pre_commit_files_regex`` writes it."""
    if not (pattern.startswith("^(") and pattern.endswith(")$")):
        return None
    return frozenset(re.split(r"(?<!\\)\|", pattern[2:-2]))


def _repos_block_end(lines: Sequence[str], repos_at: int) -> tuple[int, int]:
    """Where the ``repos:`` list ends (insert there) and the indent of its items."""
    indent = None
    end = repos_at + 1
    for i in range(repos_at + 1, len(lines)):
        body = _bare(lines[i])
        stripped = body.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if body.startswith("- ") or body == "-":
            if indent is None:
                indent = 0
            if indent != 0:
                break
        elif not body[:1].isspace():
            break  # the next top-level key
        elif indent is None and stripped.startswith("-"):
            indent = _indent(body)
        end = i + 1
    return end, 2 if indent is None else indent


def remove_pre_commit_hooks(text: str, project_dir: str = "", *, legacy_files: str | None = None) -> str | None:
    """``text`` without our ``repo: local`` entry for this project; None when the file should go.

    Another project's entry (a monorepo's other service, with its own hook
    ids) stays. With ``legacy_files``, the entry an older revgraph wrote for
    this service goes too (``is_legacy_service_block``).
    """
    ours = set(pre_commit_hook_ids(project_dir))
    return _drop_hook_blocks(
        text,
        lambda block: not (_present_hook_ids(block) - ours)
        or (legacy_files is not None and is_legacy_service_block(block, legacy_files)),
    )


def drop_legacy_pre_commit_hooks(text: str, files: str) -> str | None:
    """``text`` without the entries an older revgraph wrote for the service whose hooks' ``files`` is ``files``."""
    return _drop_hook_blocks(text, lambda block: is_legacy_service_block(block, files))


def is_legacy_service_block(block: Sequence[str], files: str) -> bool:
    """Whether a marked entry is a monorepo service's hooks as revgraph wrote them before they had ``-C``.

    Those have the plain ids and an entry without ``-C``: pre-commit runs them
    at the top of the work tree, where they find no project and fail every
    commit. What ties one to a service is its ``files`` pattern, which names that
    service's folders; a project at the top has its own folders, so its (working)
    plain entry never matches.
    """
    ids = _present_hook_ids(block)
    if not ids or not ids <= set(PRE_COMMIT_HOOK_IDS):
        return False
    fields = [_bare(line).strip() for line in block]
    patterns = [f for f in fields if f.startswith("files:")]
    entries = [f for f in fields if f.startswith("entry:")]
    return (
        bool(patterns)
        and all(f == f"files: {_yaml_quote(files)}" for f in patterns)
        and not any(" -C " in f"{f} " for f in entries)
    )


def _marker_taking_over(line: str, *, ended_above: bool, created: bool) -> str:
    """A kept entry's marker line with a dropped entry's notes added (``_drop_hook_blocks``)."""
    body = _bare(line).rstrip()
    ending = line[len(_bare(line)):]
    if created:
        body = body.replace("(added by `revgraph install`", "(file created by `revgraph install`", 1)
    if ended_above:
        body = _noting_ended_above(body)
    return body + ending


def _drop_hook_blocks(text: str, drop: Callable[[Sequence[str]], bool]) -> str | None:
    """``text`` without the marked ``repo: local`` entries ``drop`` picks; None when the file should go."""
    lines = _lines(text)
    kept: list[str] = []
    created = False
    ended_above = False  # a dropped entry's note that install ended the line above it
    i = 0
    while i < len(lines):
        kind = _marker_kind(lines[i], _PRE_COMMIT_WHAT)
        if kind is None:
            kept.append(lines[i])
            ended_above = False
            i += 1
            continue
        start = i
        indent = _indent(_bare(lines[i]))
        i += 1
        if i < len(lines) and _bare(lines[i]).strip() == "- repo: local":
            i += 1
            while i < len(lines) and _bare(lines[i]).strip() and _indent(_bare(lines[i])) > indent:
                i += 1
        ended_above = ended_above or _ENDED_LINE_ABOVE in lines[start]
        if not drop(lines[start:i]):
            block = lines[start:i]
            if (ended_above and _ENDED_LINE_ABOVE not in block[0]) or (created and not kind):
                # The entry install put first is gone; this one takes over its notes:
                # that install created the file (so the last uninstall removes it) and
                # ended the line above (so that newline goes again).
                block[0] = _marker_taking_over(block[0], ended_above=ended_above, created=created)
                created = False
            kept.extend(block)  # another project's hooks
            ended_above = False
            continue
        created = created or kind
        if ended_above and i == len(lines) and kept:
            kept[-1] = _bare(kept[-1])  # install ended that line; nothing follows our entry
    result = "".join(kept)
    meaningful = [
        _bare(line).strip() for line in _lines(result)
        if _bare(line).strip() and not _bare(line).strip().startswith("#")
    ]
    if created and meaningful in ([], ["repos:"]):
        return None
    return _empty_repos_as_a_list(result)


def _empty_repos_as_a_list(text: str) -> str:
    """``text`` with a ``repos:`` key left without items written ``repos: []``: pre-commit
    rejects a null ``repos`` (a tester: uninstall left a bare ``repos:`` behind)."""
    lines = _lines(text)
    at = next((i for i, line in enumerate(lines) if _REPOS_KEY.match(_bare(line))), None)
    if at is None or _REPOS_KEY.match(_bare(lines[at])).group("rest"):
        return text
    end, _ = _repos_block_end(lines, at)
    if any(_bare(line).strip() and not _bare(line).strip().startswith("#") for line in lines[at + 1 : end]):
        return text
    line = lines[at]
    body = _bare(line)
    comment = body.find("#")
    head, tail = (body, "") if comment < 0 else (body[:comment].rstrip(), "  " + body[comment:])
    lines[at] = f"{head.rstrip()} []{tail}" + line[len(body):]
    return "".join(lines)


def _validate_pre_commit(text: str, present: bool, project_dir: str = "", *, before: str | None = None) -> None:
    """Parse the edited YAML when PyYAML is around (it is wherever pre-commit is): our
    hooks there (or gone), and every other hook of ``before`` still there."""
    try:
        import yaml
    except ImportError:
        return
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{PRE_COMMIT_CONFIG}: editing it would leave invalid YAML ({' '.join(str(exc).split())[:160]})",
            hint="add the revgraph hooks by hand (see docs/ci.md)",
        ) from None
    ours = set(pre_commit_hook_ids(project_dir))
    ids = _yaml_hook_ids(data)
    try:
        theirs = _yaml_hook_ids(yaml.safe_load(before)) - ours if before and before.strip() else set()
    except yaml.YAMLError:
        theirs = set()  # the edit is judged on its own then
    if present != ours.issubset(ids) or not theirs <= ids:
        raise ConfigError(
            f"{PRE_COMMIT_CONFIG}: could not edit it safely (unexpected layout)",
            hint="add or remove the revgraph hooks by hand (see docs/ci.md)",
        )


def _yaml_hook_ids(data: object) -> set:
    """The ``id`` of every hook of every repo in a loaded pre-commit config."""
    ids = set()
    repos = data.get("repos") if isinstance(data, dict) else None
    for repo in repos if isinstance(repos, list) else []:
        hooks = repo.get("hooks") if isinstance(repo, dict) else None
        for hook in hooks if isinstance(hooks, list) else []:
            if isinstance(hook, dict) and isinstance(hook.get("id"), str):
                ids.add(hook["id"])
    return ids


# ------------------------------------------------ alembic.ini post_write_hooks
_SECTION = re.compile(r"\[(?P<header>.+)\]")
_HOOKS_KEY = re.compile(r"^(?P<key>hooks)\s*[=:](?P<value>.*)$", re.IGNORECASE)
_HOOK_TOKENS = re.compile(r", *| +")
_OWN_KEYS = {"type": "console_scripts", "entrypoint": HOOK_ENTRYPOINT}


def _own_key(line: str) -> str | None:
    m = re.match(rf"^{HOOK_NAME}\.(?P<key>\w+)\s*[=:]", _bare(line), re.IGNORECASE)
    return m.group("key").lower() if m else None


def _find_section(lines: Sequence[str], name: str) -> tuple[int, int] | None:
    """(header index, end index) of ``[name]``; end is the next header or EOF."""
    start = None
    for i, line in enumerate(lines):
        body = _bare(line)
        m = _SECTION.match(body.strip()) if body[:1] not in (" ", "\t") else None
        if m is None:
            continue
        if start is not None:
            return start, i
        if m.group("header") == name:
            start = i
    return (start, len(lines)) if start is not None else None


def _hooks_line(lines: Sequence[str], start: int, end: int) -> tuple[int, int] | None:
    """(first, last) line index of the ``hooks =`` value, continuation lines included."""
    for i in range(start + 1, end):
        if _HOOKS_KEY.match(_bare(lines[i])):
            last = i
            while last + 1 < end and _bare(lines[last + 1])[:1] in (" ", "\t") and _bare(lines[last + 1]).strip():
                last += 1
            return i, last
    return None


def _hook_names(lines: Sequence[str], first: int, last: int) -> list[str]:
    value = _HOOKS_KEY.match(_bare(lines[first])).group("value")
    value = " ".join([value] + [_bare(line).strip() for line in lines[first + 1:last + 1]])
    return [name for name in _HOOK_TOKENS.split(value.strip()) if name]


def _with_hook_name(line: str, nl: str) -> str:
    body = _bare(line)
    value = _HOOKS_KEY.match(body).group("value") if _HOOKS_KEY.match(body) else body
    if not value.strip():
        return body + ("" if body.endswith(" ") else " ") + HOOK_NAME + nl
    # Follow the list's own style: space separated only when it already is.
    spaced = "," not in value and len(value.split()) > 1
    return body.rstrip() + (" " if spaced else ", ") + HOOK_NAME + nl


def add_post_write_hook_ini(text: str) -> str:
    """alembic.ini with ``revgraph_lock`` in ``[post_write_hooks]`` (section created if missing)."""
    lines = _lines(text)
    nl = _newline(text)
    section = _find_section(lines, "post_write_hooks")
    if section is None:
        block = ["", "[post_write_hooks]", _marker(_INI_WHAT, True, "section"), f"hooks = {HOOK_NAME}"]
        block += [f"{HOOK_NAME}.{key} = {value}" for key, value in _OWN_KEYS.items()]
        return "".join(_terminated(lines, nl) + [line + nl for line in block])
    start, end = section
    hooks = _hooks_line(lines, start, end)
    have = {_own_key(line) for line in lines[start + 1:end]}
    block: list[str] = []
    if hooks is None:
        block.append(f"hooks = {HOOK_NAME}")
    elif HOOK_NAME not in _hook_names(lines, *hooks):
        lines[hooks[1]] = _with_hook_name(lines[hooks[1]], nl)
    block += [f"{HOOK_NAME}.{key} = {value}" for key, value in _OWN_KEYS.items() if key not in have]
    if not block:
        return "".join(lines)
    insert = end
    if end < len(lines):
        # Comments right above the next header are that section's heading
        # (alembic's own template: "# Logging configuration" over [loggers]).
        while insert > start + 1 and _bare(lines[insert - 1]).lstrip()[:1] in ("#", ";"):
            insert -= 1
    while insert > start + 1 and not _bare(lines[insert - 1]).strip():
        insert -= 1
    head = _terminated(lines[:insert], nl)
    block.insert(0, _marker(_INI_WHAT, created=False))
    return "".join(head + [line + nl for line in block] + lines[insert:])


def remove_post_write_hook_ini(text: str) -> str:
    lines = _lines(text)
    section = _find_section(lines, "post_write_hooks")
    if section is None:
        return text
    start, end = section
    body = lines[start + 1:end]
    created = any(_marker_kind(line, _INI_WHAT) for line in body)
    kept: list[str] = []
    after_marker = False
    for line in body:
        if _marker_kind(line, _INI_WHAT) is not None:
            after_marker = True
            continue
        if _own_key(line) is not None:
            continue
        m = _HOOKS_KEY.match(_bare(line))
        if m and HOOK_NAME in _HOOK_TOKENS.split(m.group("value").strip()):
            remaining = [n for n in _HOOK_TOKENS.split(m.group("value").strip()) if n and n != HOOK_NAME]
            if not remaining and after_marker:
                continue  # the hooks line was ours
            line = _without_hook_name(line)
        after_marker = False
        kept.append(line)
    head = lines[:start]
    if created and not "".join(kept).strip():
        if head and not _bare(head[-1]).strip():
            head = head[:-1]  # the blank line we put before the section
        return "".join(head + lines[end:])
    return "".join(head + [lines[start]] + kept + lines[end:])


def _without_hook_name(line: str) -> str:
    ending = line[len(_bare(line)):]
    body = _bare(line)
    new = re.sub(rf"(?:\s*,\s*|\s+){HOOK_NAME}(?=\s*$)", "", body)
    if new == body:
        new = re.sub(rf"\b{HOOK_NAME}\b(?:\s*,\s*|\s+)?", "", body)
    return new + ending


def _validate_ini(text: str, present: bool, path: str) -> None:
    from configparser import ConfigParser, Error

    parser = ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=path)
    except Error as exc:
        raise ConfigError(
            f"{path}: editing [post_write_hooks] would break it ({' '.join(str(exc).split())[:160]})",
            hint="add the revgraph_lock hook by hand (see docs/ci.md)",
        ) from None
    hooks = dict(parser.items("post_write_hooks")) if parser.has_section("post_write_hooks") else {}
    names = [n for n in _HOOK_TOKENS.split(hooks.get("hooks", "").strip()) if n]
    ok = HOOK_NAME in names and hooks.get(f"{HOOK_NAME}.entrypoint") == HOOK_ENTRYPOINT
    if ok != present:
        raise ConfigError(
            f"{path}: could not edit [post_write_hooks] safely (unexpected layout)",
            hint="add or remove the revgraph_lock hook by hand (see docs/ci.md)",
        )


# ----------------------------------------- pyproject [[tool.alembic.post_write_hooks]]
_TOML_BLOCK = [
    "[[tool.alembic.post_write_hooks]]",
    f'name = "{HOOK_NAME}"',
    'type = "console_scripts"',
    f'entrypoint = "{HOOK_ENTRYPOINT}"',
]


def _load_toml(text: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"pyproject.toml: invalid TOML: {' '.join(str(exc).split())}") from None


def _toml_hooks(text: str) -> list:
    tool = _load_toml(text).get("tool", {})
    alembic = tool.get("alembic", {}) if isinstance(tool, dict) else {}
    hooks = alembic.get("post_write_hooks", []) if isinstance(alembic, dict) else []
    return hooks if isinstance(hooks, list) else []


def add_post_write_hook_toml(text: str) -> str:
    if any(isinstance(h, dict) and h.get("name") == HOOK_NAME for h in _toml_hooks(text)):
        return text
    lines = _lines(text)
    nl = _newline(text)
    block = ["", _marker(_INI_WHAT, True, "table"), *_TOML_BLOCK]
    return "".join(_terminated(lines, nl) + [line + nl for line in block])


def remove_post_write_hook_toml(text: str) -> str:
    lines = _lines(text)
    for i, line in enumerate(lines):
        if _marker_kind(line, _INI_WHAT) is None:
            continue
        end = i + 1
        if end < len(lines) and _bare(lines[end]).strip() == _TOML_BLOCK[0]:
            end += 1
            while end < len(lines) and _bare(lines[end]).strip() in _TOML_BLOCK[1:]:
                end += 1
        start = i - 1 if i > 0 and not _bare(lines[i - 1]).strip() else i
        return "".join(lines[:start] + lines[end:])
    return text


def _validate_toml(text: str, present: bool, path: str) -> None:
    found = any(
        isinstance(h, dict) and h.get("name") == HOOK_NAME and h.get("entrypoint") == HOOK_ENTRYPOINT
        for h in _toml_hooks(text)
    )
    if found != present:
        raise ConfigError(
            f"{path}: could not edit [[tool.alembic.post_write_hooks]] safely",
            hint="add or remove the revgraph_lock hook by hand (see docs/ci.md)",
        )


# ================================================================ planning
@dataclass
class _FilePlan:
    """New contents per file; None as new content means: delete the file."""

    root: Path
    old: dict[str, bytes | None] = field(default_factory=dict)
    new: dict[str, bytes | None] = field(default_factory=dict)
    dirs: list[Path] = field(default_factory=list)
    below: dict[str, str] = field(default_factory=dict)  # FileEdit.folders_below of new files

    def read(self, rel: str) -> str | None:
        if rel in self.new:
            data = self.new[rel]
            return None if data is None else data.decode("utf-8")
        path = self.root / rel
        if not path.is_file():
            self.old[rel] = None
            return None
        data = path.read_bytes()
        self.old[rel] = data
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{rel}: not UTF-8 text; revgraph will not edit it") from None

    def put(self, rel: str, text: str | None) -> bool:
        """Record new content; False when it is what the file holds already."""
        data = None if text is None else text.encode("utf-8")
        before = self.new.get(rel, self.old.get(rel))
        if data == before:
            return False
        self.new[rel] = data
        self.dirs.append((self.root / rel).parent)
        return True

    def edits(self):
        from revgraph.fixes.plan import FileEdit

        return [
            FileEdit(rel, self.old.get(rel), data, folders_below=self.below.get(rel))
            for rel, data in self.new.items() if data is not None
        ]  # fmt: skip

    def deletions(self) -> list[str]:
        return [rel for rel, data in self.new.items() if data is None and self.old.get(rel) is not None]

    def diff(self) -> str:
        from revgraph.fixes.plan import EditPlan, FileEdit

        edits = self.edits() + [FileEdit(rel, self.old[rel], b"") for rel in self.deletions()]
        return EditPlan("install", tuple(edits)).diff()

    def replace(self, rel: str, old: bytes | None, new: bytes) -> None:
        """A whole file's new bytes, its old ones read by the caller (a lock file: any bytes).

        A new one's missing folders are made (``lock_file = "db/revgraph.lock"``), as
        `revgraph lock` makes them: below the nearest folder that exists."""
        from revgraph.fixes.apply import existing_folder_above

        self.old[rel] = old
        self.new[rel] = new
        if old is None and not (self.root / rel).parent.is_dir():
            self.below[rel] = existing_folder_above(self.root, rel)
            self.dirs.append(self.root / self.below[rel])
        else:
            self.dirs.append((self.root / rel).parent)

    def check(self) -> None:
        """Every check the writer makes, writing nothing.

        Run before the first write of any kind (files or git config), so that
        a file the writer would refuse (a symlink leaving the repository, a
        folder, a file changed meanwhile) stops the run while nothing is
        changed yet.
        """
        from revgraph.fixes.apply import apply_plan
        from revgraph.fixes.plan import EditPlan

        edits = self.edits()
        if edits:
            apply_plan(EditPlan("install", tuple(edits)), self.root, allowed_dirs=self.dirs, dry_run=True)
        for rel in self.deletions():
            self._check_deletable(rel)

    def _check_deletable(self, rel: str) -> None:
        path = self.root / rel
        try:
            current = path.read_bytes() if path.is_file() else None
        except OSError:
            current = None
        if current != self.old[rel]:
            raise WriteError(f"{rel} changed while revgraph was editing it; it was left as it is")

    def write(self) -> None:
        from revgraph.fixes.apply import apply_plan
        from revgraph.fixes.plan import EditPlan

        edits = self.edits()
        if edits:
            # A lock file's folder (lock_file = "db/revgraph.lock") is made as `revgraph lock` makes it.
            apply_plan(EditPlan("install", tuple(edits)), self.root, allowed_dirs=self.dirs)
        for rel in self.deletions():
            self._check_deletable(rel)
            (self.root / rel).unlink()

    def undo(self) -> list[str]:
        """Put back every file this run changed; returns those that could not be.

        A file that holds its old bytes (the write never reached it, or was
        rolled back) needs nothing; one that holds neither our bytes nor its
        old ones was edited since, and is left alone: never overwritten.
        """
        from revgraph.fixes.apply import apply_plan
        from revgraph.fixes.plan import EditPlan, FileEdit

        failed: list[str] = []
        restore = []
        for rel, data in self.new.items():
            before = self.old.get(rel)
            path = self.root / rel
            try:
                current = path.read_bytes() if path.is_file() else None
            except OSError:
                failed.append(rel)
                continue
            if current == before:
                continue
            if current != data:
                failed.append(rel)
            elif before is None:  # created by this run: remove it, and the folders made for it
                try:
                    path.unlink()
                except OSError:
                    failed.append(rel)
                    continue
                self._remove_made_folders(rel)
            else:  # edited or deleted by this run
                restore.append(FileEdit(rel, data, before))
        if restore:
            try:
                apply_plan(EditPlan("undo", tuple(restore)), self.root, allowed_dirs=self.dirs)
            except (RevgraphError, OSError):
                failed.extend(edit.path for edit in restore)
        return failed

    def _remove_made_folders(self, rel: str) -> None:
        """The folders made for ``rel`` (those between ``below[rel]``, which existed, and
        it), as the writer removes its own after a failure."""
        if rel not in self.below:
            return
        from revgraph.fixes.apply import remove_folders

        top = self.root / self.below[rel]
        made = [folder for folder in (self.root / rel).parents if top in folder.parents]
        remove_folders(made[::-1])


def _rel(root: Path, path: Path) -> str | None:
    # realpath, not resolve(): a symlink loop is a path here, not a RuntimeError.
    resolved = (Path(os.path.realpath(path)), Path(os.path.realpath(root)))
    for here, top in ((path, root), resolved):
        try:
            return here.relative_to(top).as_posix()
        except ValueError:
            continue
    return None


def _lock_relpaths(ws: Workspace, result: InstallResult) -> list[str]:
    out = []
    for env in ws.environments:
        if env.lock_file is None:
            continue
        rel = _rel(ws.root, env.lock_file)
        if rel is None:
            result.warnings.append(
                f"environment {env.name!r}: lock file {env.lock_file} is outside the repository; "
                "git cannot merge it with the driver"
            )
            continue
        out.append(rel)
    return out


def _refuse_foreign_locks(ws: Workspace) -> None:
    """``config.refuse_foreign_lock`` on each environment's lock file that exists."""
    from revgraph.config import refuse_foreign_lock

    for env in ws.environments:
        path = env.lock_file
        if path is None or not path.is_file():  # not is_file(): a FIFO would block the read
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue  # the writer says why it cannot
        refuse_foreign_lock(ws.project, env, path, data, ws.root)


def _version_relpaths(ws: Workspace) -> list[str]:
    out = []
    for env in ws.environments:
        for folder in env.version_locations:
            rel = _rel(ws.root, folder)
            if rel is not None:
                out.append("" if rel == "." else rel)
    return out


# ---------------------------------------------------------------- git config
def _git_config_get(repo, key: str) -> str | None:
    done = repo.git("config", "--local", "--get", key, ok=(0, 1))
    return done.stdout.decode("utf-8", "surrogateescape").rstrip("\n") if done.returncode == 0 else None


def _overriding_driver(repo) -> tuple[str, str, str] | None:
    """``(scope, where, value)`` of a ``merge.revgraph.driver`` that wins over the
    repository's own (local) one in this work tree, or None.

    What git uses is the last value it reads: a linked worktree's own config
    (``extensions.worktreeConfig``, ``git config --worktree``), ``-c``/``GIT_CONFIG_*``
    given to git, or a file the local config includes after revgraph's line (a
    team's shared config naming an old virtualenv: a tester). ``install`` sets
    the local value, which such a setting silently overrides; a value equal to
    the one install writes is no override. (git before 2.26 has no
    ``--show-scope``: nothing is said there.)
    """
    key = f"merge.{DRIVER_NAME}.driver"
    done = repo.git("config", "--show-scope", "--show-origin", "--get", key, ok=range(256))
    if done.returncode != 0:
        return None
    scope, _, rest = done.stdout.decode("utf-8", "surrogateescape").rstrip("\n").partition("\t")
    origin, _, value = rest.partition("\t")
    if origin.startswith("file:") and _is_own_config(repo, origin[len("file:"):]):
        return None  # the repository's own file: install sets (or just set) it there
    if scope not in ("local", "worktree", "command") or value == driver_command():
        return None  # an earlier scope loses to the local value install sets; or it is ours
    where = origin[len("file:"):] if origin.startswith("file:") else "git's command line (-c, GIT_CONFIG_*)"
    return scope, where, value


def _is_own_config(repo, path: str) -> bool:
    """Whether ``path`` (as git names a config file's origin, relative to where it ran)
    is the repository's own config file, the one ``git config --local`` writes."""
    try:
        return os.path.samefile(os.path.join(repo._cwd, path), repo.common_dir / "config")
    except OSError:
        return False


def _override_warning(repo) -> str | None:
    found = _overriding_driver(repo)
    if found is None:
        return None
    scope, where, value = found
    undo = (f"unset it there (`git config --worktree --unset merge.{DRIVER_NAME}.driver`)" if scope == "worktree"
            else "drop it from git's command line" if scope == "command"
            else "remove it from that file (the repository's config includes it)")  # fmt: skip
    return (
        f"git config in {where} sets merge.{DRIVER_NAME}.driver = {value}, which overrides revgraph's "
        f"in this work tree: git merges the lock file with it; {undo}"
    )


# One git config change: (key, new value or None to unset, the value it had or None).
_ConfigChange = tuple[str, str | None, str | None]


def _plan_config_install(repo, result: InstallResult) -> list[_ConfigChange]:
    wanted = {CONFIG_KEYS[0]: DRIVER_LABEL, CONFIG_KEYS[1]: driver_command()}
    todo: list[_ConfigChange] = []
    for key, value in wanted.items():
        current = _git_config_get(repo, key)
        if current == value:
            continue
        todo.append((key, value, current))
        what = f"set {key} = {value}" if current is None else f"changed {key}: {current} -> {value}"
        result.changes.append(Change("git config", what))
    overridden = _override_warning(repo)
    if overridden is not None:
        result.warnings.append(overridden)
    return todo


def _plan_config_uninstall(repo, result: InstallResult) -> list[_ConfigChange]:
    todo: list[_ConfigChange] = []
    for key in CONFIG_KEYS:
        current = _git_config_get(repo, key)
        if current is not None:
            todo.append((key, None, current))
            result.changes.append(Change("git config", f"unset {key}"))
    return todo


def _set_config(repo, key: str, value: str | None) -> None:
    if value is None:
        repo.git("config", "--local", "--unset-all", key, ok=(0, 5))
    else:
        repo.git("config", "--local", key, value)


def _apply_config(repo, todo: Sequence[_ConfigChange], done: list[_ConfigChange]) -> None:
    """Apply ``todo`` in order, appending each change to ``done`` once git made it."""
    for change in todo:
        key, value, _ = change
        _set_config(repo, key, value)
        done.append(change)
    if any(value is None for _, value, _ in todo):
        _drop_empty_driver_section(repo)


def _undo_config(repo, done: Sequence[_ConfigChange]) -> list[str]:
    """Put back the values ``done`` replaced; returns the keys that could not be restored."""
    failed = []
    for key, _, previous in reversed(done):
        try:
            _set_config(repo, key, previous)
        except RevgraphError:
            failed.append(key)
    if any(previous is None for _, _, previous in done):
        try:
            _drop_empty_driver_section(repo)
        except RevgraphError:
            pass  # an empty [merge "revgraph"] header is harmless
    return failed


def _drop_empty_driver_section(repo) -> None:
    """``git config --unset`` leaves an empty ``[merge "revgraph"]`` header behind."""
    left = repo.git("config", "--local", "--get-regexp", rf"^merge\.{DRIVER_NAME}\.", ok=(0, 1))
    if left.returncode == 1:
        repo.git("config", "--local", "--remove-section", f"merge.{DRIVER_NAME}", ok=(0, 1, 128))


# ------------------------------------------------------------------ parts
def pattern_path(pattern: str) -> str | None:
    """The repo-relative path ``attribute_pattern`` wrote ``pattern`` for; None when
    ``pattern`` is not one of its (a glob, another spelling: not revgraph's)."""
    text = pattern
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        unescape = {v: k for k, v in _C_ESCAPES.items()}
        text = re.sub(r'\\(\\|"|t|n|r|[0-7]{3})',
                      lambda m: unescape.get(m[0]) or chr(int(m[1], 8)), text[1:-1])  # fmt: skip
    if text.startswith("/"):
        text = text[1:]
    elif text[:2] in ("\\#", "\\!"):
        text = text[1:]
    path = re.sub(r"\\([\\*?\[\]])", r"\1", text)
    return path if path and attribute_pattern(path) == pattern else None


def stale_attribute_lines(text: str | None, locks: Sequence[str], ours: Callable[[str], bool]) -> list[str]:
    """The driver lines of our block naming a path that is no lock file now and that
    ``ours`` (a path -> whether this project would own a lock there) claims: what a
    changed ``lock_file`` left behind. Another project's lines (a monorepo's
    services share the top .gitattributes) are not ``ours`` and stay."""
    wanted = {attribute_line(rel) for rel in locks}
    stale = []
    in_block = False
    for line in _lines(text or ""):
        if _marker_kind(line, _ATTR_WHAT) is not None:
            in_block = True
            continue
        if not (in_block and _is_driver_line(line)):
            in_block = False
            continue
        entry = _bare(line).strip()
        path = pattern_path(entry.rsplit(None, 1)[0])
        if entry not in wanted and path is not None and ours(path):
            stale.append(entry)
    return stale


def _without_lines(text: str, entries: Iterable[str]) -> str:
    drop = set(entries)
    return "".join(line for line in _lines(text) if _bare(line).strip() not in drop)


def _owned_by(ws: Workspace) -> Callable[[str], bool]:
    """Whether a lock at a repo-relative path would belong to ``ws``'s project: the
    project revgraph finds from that path's folder (its nearest existing one) is it."""
    from revgraph.config import find_project_dir

    mine = os.path.realpath(ws.project.root)

    def owned(rel: str) -> bool:
        folder = (ws.root / rel).parent
        while not folder.is_dir() and folder != folder.parent:
            folder = folder.parent
        try:
            found = find_project_dir(folder)
        except OSError:
            return False
        return found is not None and os.path.realpath(found) == mine

    return owned


def _plan_attributes(
    files: _FilePlan, locks: Sequence[str], result: InstallResult, *, add: bool,
    owned: Callable[[str], bool] | None = None,
) -> None:
    entries = [attribute_line(rel) for rel in locks]
    if add and os.path.islink(files.root / GITATTRIBUTES):
        # git (2.32+) does not read a .gitattributes that is a symbolic link: lines
        # written where it leads would promise a driver git never runs.
        raise ConfigError(
            f"{GITATTRIBUTES} is a symbolic link, which git does not read as attributes",
            hint="replace the link with the file it leads to, then run `revgraph install` again",
        )
    if not add and os.path.islink(files.root / GITATTRIBUTES):
        # Not revgraph's file any more (install refuses a link): neither the link
        # nor the file it leads to is edited or removed, the lines it holds are named.
        target = files.root / GITATTRIBUTES
        try:
            text = target.read_bytes().decode("utf-8", "replace") if target.is_file() else ""
        except OSError:
            text = ""  # (a dangling link, a loop, no permission: no line to name)
        held = {_bare(line).strip() for line in _lines(text)}
        present = [entry for entry in entries if entry in held]
        if present:
            result.warnings.append(
                f"{GITATTRIBUTES} is a symbolic link, which revgraph leaves as it is: remove "
                + ", ".join(f"`{entry}`" for entry in present)
                + " from the file it leads to yourself"
            )
        return
    old = files.read(GITATTRIBUTES)
    if add:
        new = add_attribute_lines(old, entries)
        stale = stale_attribute_lines(new, locks, owned) if owned is not None and new is not None else []
        if stale:
            from revgraph.shellwords import shell_word

            assert new is not None
            new = _without_lines(new, stale)
            for entry in stale:
                rel = pattern_path(entry.rsplit(None, 1)[0])
                if rel is not None and (files.root / rel).is_file():
                    result.warnings.append(
                        f"{rel} is no lock file any more (the lock file setting names another): "
                        f"remove it (`git rm {shell_word(rel)}`)"
                    )
    elif old is None:
        return
    else:
        new = remove_attribute_lines(old, entries)
    if not files.put(GITATTRIBUTES, new):
        return
    if new is None:
        result.changes.append(Change(GITATTRIBUTES, "removed (revgraph had created it)"))
        return
    if old is None:
        result.changes.append(Change(GITATTRIBUTES, "created"))
    before = {_bare(line).strip() for line in _lines(old or "")}
    after = {_bare(line).strip() for line in _lines(new)}
    for verb, lines in (("added", after - before), ("removed", before - after)):
        for line in sorted(lines):
            if line and _marker_kind(line, _ATTR_WHAT) is None:
                result.changes.append(Change(GITATTRIBUTES, f"{verb} `{line}`"))


def _plan_pre_commit(files: _FilePlan, ws: Workspace, locks: Sequence[str], result: InstallResult, *, add: bool) -> None:
    old = files.read(PRE_COMMIT_CONFIG)
    project_dir = _rel(ws.root, ws.project.root) or ""
    project_dir = "" if project_dir == "." else project_dir
    ids = pre_commit_hook_ids(project_dir)
    files_pattern = pre_commit_files_regex(_version_relpaths(ws), locks)
    # An older revgraph gave a service the plain hooks, which fail at the top: replace them.
    legacy = files_pattern if project_dir else None
    without_legacy = old if old is None or legacy is None else drop_legacy_pre_commit_hooks(old, legacy)
    if without_legacy != old:
        result.changes.append(Change(
            PRE_COMMIT_CONFIG,
            f"removed hooks {', '.join(PRE_COMMIT_HOOK_IDS)} that an older revgraph wrote for {project_dir} "
            "(without -C they ran at the top, where they found no project)",
        ))
    if add:
        new = add_pre_commit_hooks(without_legacy, files_pattern, project_dir)
        if new is not None:
            widened = refresh_pre_commit_files(new, files_pattern, project_dir)
            if widened != new:
                result.changes.append(Change(PRE_COMMIT_CONFIG, "widened the hooks' `files` to every environment's folders"))
                new = widened
            current = refresh_pre_commit_entry(new, project_dir)
            if current != new:
                result.changes.append(Change(
                    PRE_COMMIT_CONFIG, f"the check hook now runs `revgraph {CHECK_HOOK_ARGS}` (not the merge with base)"
                ))
                new = current
    elif old is None:
        return
    else:
        new = remove_pre_commit_hooks(old, project_dir, legacy_files=legacy)
    if new is not None and new != old:
        # Every hook of the user's still there (the legacy ones were dropped on purpose).
        _validate_pre_commit(new, present=add, project_dir=project_dir, before=without_legacy)
    if not files.put(PRE_COMMIT_CONFIG, new):
        return
    if new is None:
        result.changes.append(Change(PRE_COMMIT_CONFIG, "removed (revgraph had created it)"))
    elif add:
        hooks = [h for h in ids if h not in _present_hook_ids(_lines(old or ""))]
        how = "created with" if old is None else "added"
        if hooks:
            result.changes.append(Change(PRE_COMMIT_CONFIG, f"{how} hooks {', '.join(hooks)} (repo: local)"))
    else:
        removed = [h for h in ids if h in _present_hook_ids(_lines(old or ""))]
        if removed:
            result.changes.append(Change(PRE_COMMIT_CONFIG, f"removed hooks {', '.join(removed)}"))


def _hook_config_file(env: Environment, root: Path) -> tuple[str, str] | None:
    """(repo-relative path, "ini" | "toml") of the file alembic reads post_write_hooks from."""
    config = env.config_file
    if config is None:
        return None
    if config.name == "pyproject.toml":
        return _rel(root, config), "toml"
    # alembic reads [tool.alembic] post_write_hooks only when the ini has no such
    # section; a project that configures alembic in pyproject.toml keeps them there.
    pyproject = config.parent / "pyproject.toml"
    if pyproject.is_file():
        ini_text = config.read_text(encoding="utf-8", errors="replace")
        if _find_section(_lines(ini_text), "post_write_hooks") is None and _has_tool_alembic(pyproject):
            return _rel(root, pyproject), "toml"
    return _rel(root, config), "ini"


def _has_tool_alembic(pyproject: Path) -> bool:
    try:
        tool = _load_toml(pyproject.read_text(encoding="utf-8")).get("tool", {})
    except (ConfigError, OSError, UnicodeDecodeError):
        return False
    return isinstance(tool, dict) and isinstance(tool.get("alembic"), dict)


def _plan_post_write_hook(files: _FilePlan, ws: Workspace, result: InstallResult, *, add: bool) -> None:
    seen = set()
    for env in ws.environments:
        found = _hook_config_file(env, ws.root)
        if found is None or found[0] is None:
            if add:
                result.warnings.append(
                    f"environment {env.name!r} has no alembic config file inside the repository; "
                    "no post_write_hooks entry added"
                )
            continue
        rel, kind = found
        if rel in seen:
            continue
        seen.add(rel)
        old = files.read(rel)
        if old is None:
            continue
        if kind == "ini":
            new = add_post_write_hook_ini(old) if add else remove_post_write_hook_ini(old)
            validate = _validate_ini
        else:
            new = add_post_write_hook_toml(old) if add else remove_post_write_hook_toml(old)
            validate = _validate_toml
        if new == old:
            continue
        validate(new, add, rel)
        files.put(rel, new)
        where = "[post_write_hooks]" if kind == "ini" else "[[tool.alembic.post_write_hooks]]"
        verb = "added" if add else "removed"
        result.changes.append(Change(rel, f"{verb} {where} {HOOK_NAME} (console_scripts {HOOK_ENTRYPOINT})"))


def _plan_lock(files: _FilePlan, refresh_locks: Callable[[bool], Iterable], result: InstallResult) -> None:
    """The stale or missing lock files join the plan: written with the other files, all or none."""
    for status in refresh_locks(True):
        if status.current:
            continue
        path = files.root / status.path
        # Not is_file(): a FIFO would block the read; the writer refuses it by name.
        try:
            old = path.read_bytes() if path.is_file() else None
        except OSError as exc:
            raise WriteError(f"cannot read {status.path}: {exc.strerror or exc}") from None
        files.replace(status.path, old, status.expected.encode("utf-8"))
        result.changes.append(Change(status.path, "written"))


def _merge_attributes(repo, paths: Sequence[str]) -> list[tuple[str, str]]:
    """``(path, merge attribute)`` as git sees it for each of ``paths`` (``git check-attr -z``)."""
    if not paths:
        return []
    done = repo.git("check-attr", "-z", "merge", "--", *paths, ok=(0,))
    fields = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [(fields[i], fields[i + 2]) for i in range(0, len(fields) - 2, 3)]


def _check_driver_finds_owner(repo, ws: Workspace, locks: Sequence[str], result: InstallResult) -> None:
    """The merge driver, which git runs with none of this command's options, must find
    each lock file's environment by itself (``driver.lock_owner``): say when it cannot
    (a project chosen here by ``-c other.ini`` or ``ALEMBIC_CONFIG``)."""
    from revgraph.gitops.driver import lock_owner

    if repo.root is None:
        return
    top = Path(repo.root)
    configs = {}
    for env in ws.environments:
        if env.lock_file is not None and env.config_file is not None:
            configs[_rel(top, env.lock_file)] = (env.name, _rel(top, env.config_file) or str(env.config_file))
    for rel in locks:
        try:
            owner = lock_owner(rel, top)
        except Exception:  # only a warning: the install itself is done
            continue
        if owner is None or owner.env is None:
            name, config = configs.get(rel, ("NAME", "alembic.ini"))
            result.warnings.append(
                f"the merge driver git runs cannot tell which environment {rel} belongs to (this "
                "project was chosen by -c or ALEMBIC_CONFIG, which git does not pass it), so every "
                "merge that changes it stops at a conflict: name the config in a pyproject.toml at "
                f'the top, [tool.revgraph.environments] {name} = {{ config = "{config}" }}'
            )


def _check_attributes_apply(repo, locks: Sequence[str], result: InstallResult) -> None:
    """Another rule (a later line, a nested .gitattributes) may still win: say so."""
    for path, value in _merge_attributes(repo, locks):
        if value != DRIVER_NAME:
            result.warnings.append(
                f"git sees `merge={value}` for {path}, not merge={DRIVER_NAME}: "
                "another .gitattributes rule overrides revgraph's"
            )


def setup_notes(ws: Workspace) -> list[str]:
    """``driver_setup_notes`` for the workspace's lock files that exist (none outside git)."""
    repo = ws.maybe_repo()
    if repo is None or repo.root is None:
        return []
    locks = [rel for rel in _lock_relpaths(ws, InstallResult()) if (ws.root / rel).is_file()]
    try:
        top = (ws.root / GITATTRIBUTES).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        top = ""
    listed = {_bare(line).strip() for line in _lines(top)}
    promised = [rel for rel in locks if attribute_line(rel) in listed]
    try:
        return _overridden_notes(repo, promised) + driver_setup_notes(repo, locks)
    except (RevgraphError, OSError):
        return []  # advice only: never in the way of the report


def _overridden_notes(repo, promised: Sequence[str]) -> list[str]:
    """``promised``: lock files the top ``.gitattributes`` gives revgraph's driver; a
    note for each that git gives another merge (a later line, a sub-folder's file),
    as install warns when it writes the line: the driver then never runs there."""
    return [
        f"the top .gitattributes gives {path} merge={DRIVER_NAME}, but git says `merge: {value}` for it: "
        "a later line or a .gitattributes in a sub-folder overrides it, and the lock file "
        "merges without revgraph's driver (`git check-attr merge -- "
        f"{_shell_word(path)}` shows it)"
        for path, value in _merge_attributes(repo, promised)
        if value != DRIVER_NAME
    ]


def _shell_word(text: str) -> str:
    from revgraph.shellwords import shell_word

    return shell_word(text)


def driver_setup_notes(repo, locks: Sequence[str]) -> list[str]:
    """Why git would not run the merge driver on ``locks`` in this clone, for ``doctor``.

    ``locks``: repo-relative lock files that exist. Only lock files that
    ``.gitattributes`` gives ``merge=revgraph`` promise a driver. git config is
    not versioned: a clone where ``revgraph install`` never ran has no
    ``merge.revgraph.driver``, and git then merges the lock file as plain
    text: a bare conflict, never the driver's clean merge or its message.
    A driver whose program is gone (a virtualenv moved or rebuilt) turns
    every lock merge into an unexplained failure. ``[]`` when nothing stands
    in the way.
    """
    driven = [path for path, value in _merge_attributes(repo, locks) if value == DRIVER_NAME]
    if not driven:
        return []  # not set up for the driver here: nothing was promised
    named = ", ".join(driven)
    overridden = _override_warning(repo)
    if overridden is not None:
        return [f"the merge driver for {named} is not revgraph's here: {overridden}."]
    got = repo.git("config", "--get", f"merge.{DRIVER_NAME}.driver", ok=range(256))
    command = got.stdout.decode("utf-8", "surrogateescape").strip() if got.returncode == 0 else ""
    if not command:
        return [
            f".gitattributes asks for revgraph's merge driver on {named}, but this clone has none "
            "(git config is not versioned): git merges the lock file as plain text here, a bare "
            "conflict whenever both sides change it. "
            "Run `revgraph install` once in this clone."
        ]
    if "merge-driver" not in command:  # another program under revgraph's driver name
        return [
            f"the merge driver for {named} runs `{command}`, not revgraph's merge driver: "
            "git merges the lock file with it. Run `revgraph install` in this clone."
        ]
    try:
        program = shlex.split(command)[0]
    except (ValueError, IndexError):
        return []
    if os.path.isabs(program) and not (os.path.isfile(program) and os.access(program, os.X_OK)):
        return [
            f"the merge driver for {named} runs {program}, which is not there any more "
            "(a virtualenv moved or rebuilt?): every merge of the lock file would fail. "
            "Run `revgraph install` again."
        ]
    return []


# ================================================================ use cases
def _said(exc: RevgraphError, message: str, hint: str | None) -> RevgraphError:
    """``exc`` (same type, exit code and attributes) with another message and hint.

    Built without calling the type: subclasses' own ``__init__`` signatures differ.
    """
    fresh = type(exc).__new__(type(exc))
    fresh.__dict__.update(exc.__dict__)
    RevgraphError.__init__(fresh, message, hint=hint)
    return fresh


def _refused(exc: RevgraphError, what: str) -> RevgraphError:
    return _said(exc, f"{exc.message}; {what} changed nothing", exc.hint)


def _commit(repo, files: _FilePlan, config_todo: Sequence[_ConfigChange], what: str) -> None:
    """Write the planned files, then git config; on any failure put back what this run changed.

    ``files.check()`` has already run, so the files are the step least likely
    to fail and go first, all at once (``apply_plan``). git config comes
    last: it can still fail (``.git/config.lock`` held by another git), and
    then the files are restored, so the run leaves everything as it was. What
    cannot be put back is named in the error, with ``revgraph uninstall``.
    """
    done: list[_ConfigChange] = []
    try:
        try:
            files.write()
            _apply_config(repo, config_todo, done)
        except OSError as exc:  # a deletion: the writer turns its own into WriteError
            raise WriteError(f"cannot write: {exc.strerror or exc}") from None
    except RevgraphError as exc:
        left = [f"git config {key}" for key in _undo_config(repo, done)] + files.undo()
        if not left:
            raise _refused(exc, what) from None
        raise _said(
            exc,
            f"{exc.message}; {what} stopped half-way and could not undo: {', '.join(left)}",
            "run `revgraph uninstall` to remove what revgraph wrote (`--dry-run` shows it first)",
        ) from None


def install(
    ws: Workspace,
    *,
    merge_driver: bool = True,
    lock: bool = True,
    pre_commit: bool = False,
    post_write_hook: bool = False,
    dry_run: bool = False,
    refresh_locks: Callable[[bool], Iterable] | None = None,
) -> InstallResult:
    """Wire what was asked; idempotent (a second run reports no change); all or nothing.

    ``refresh_locks(True)`` checks the lock files and returns their
    ``LockStatus``es (``api.lock`` for this workspace, handed in by the
    caller: git operations sit below the API). The stale ones are written
    here, with the other files, so that a lock the writer refuses stops the
    run before git config or ``.gitattributes`` changed.
    """
    if lock and refresh_locks is None:
        raise TypeError("install(lock=True) needs refresh_locks (e.g. lambda c: api.lock(ws, check_only=c))")
    result = InstallResult(dry_run=dry_run)
    files = _FilePlan(ws.root)
    locks = _lock_relpaths(ws, result)
    repo = ws.repo("revgraph install --merge-driver") if merge_driver else ws.maybe_repo()
    config_todo: list[_ConfigChange] = []
    try:
        from revgraph.config import require_versions_folders

        require_versions_folders(ws.environments, ws.project.root)  # before anything is planned
        _refuse_foreign_locks(ws)  # never wired as a lock file (merge driver, hooks) nor overwritten
        if merge_driver:
            config_todo = _plan_config_install(repo, result)
            _plan_attributes(files, locks, result, add=True, owned=_owned_by(ws))
        if pre_commit:
            _plan_pre_commit(files, ws, locks, result, add=True)
        if post_write_hook:
            _plan_post_write_hook(files, ws, result, add=True)
        if lock:
            assert refresh_locks is not None
            _plan_lock(files, refresh_locks, result)
        result.diff = files.diff()
        files.check()  # a dry run says what the real one would refuse
    except RevgraphError as exc:
        raise _refused(exc, "revgraph install") from None
    if not dry_run:
        _commit(repo, files, config_todo, "revgraph install")
        if merge_driver:
            _check_attributes_apply(repo, locks, result)
            _check_driver_finds_owner(repo, ws, locks, result)
    return result


def uninstall(
    ws: Workspace,
    *,
    merge_driver: bool = True,
    pre_commit: bool = True,
    post_write_hook: bool = True,
    remove_lock: bool = False,
    dry_run: bool = False,
) -> InstallResult:
    """Undo ``install``: our git config keys and our lines; the lock file only with ``remove_lock``."""
    result = InstallResult(dry_run=dry_run)
    files = _FilePlan(ws.root)
    locks = _lock_relpaths(ws, result)
    repo = ws.maybe_repo()
    config_todo: list[_ConfigChange] = []
    try:
        if merge_driver:
            _plan_attributes(files, locks, result, add=False)
            still = _other_projects_lines(files)
            if repo is not None and not still:
                config_todo = _plan_config_uninstall(repo, result)
            elif repo is not None:
                # Another project's install (a monorepo's other service) still wrote
                # lines that need the driver: the shared git config stays.
                result.changes.append(Change(
                    "git config", f"kept merge.{DRIVER_NAME}.*: {', '.join(still)} still use it"
                ))
            if not still:  # (with the config kept, every line left still has its driver)
                _warn_driver_lines_left(files, repo, result)
        if pre_commit:
            _plan_pre_commit(files, ws, locks, result, add=False)
        if post_write_hook:
            _plan_post_write_hook(files, ws, result, add=False)
        if remove_lock:
            _refuse_foreign_locks(ws)  # never deleted: the user's own file
            for rel in locks:
                if files.read(rel) is not None and files.put(rel, None):
                    result.changes.append(Change(rel, "removed"))
        result.diff = files.diff()
        files.check()
    except RevgraphError as exc:
        raise _refused(exc, "revgraph uninstall") from None
    if not dry_run:
        _commit(repo, files, config_todo, "revgraph uninstall")
    return result


def _other_projects_lines(files: _FilePlan) -> list[str]:
    """The lock files our ``.gitattributes`` block still gives the driver after an
    uninstall's edit: other projects' installs wrote them."""
    if os.path.islink(files.root / GITATTRIBUTES):
        return []
    text = files.read(GITATTRIBUTES) or ""
    found, in_block = [], False
    for line in _lines(text):
        if _marker_kind(line, _ATTR_WHAT) is not None:
            in_block = True
        elif in_block and _is_driver_line(line):
            found.append(_bare(line).strip().rsplit(None, 1)[0])
        else:
            in_block = False
    return found


# ----------------------------------------------- uninstall: lines left behind
_NAMES_DRIVER = re.compile(rf"(?:^|\s){re.escape(_ATTRIBUTE)}(?=\s|$)")


def _warn_driver_lines_left(files: _FilePlan, repo, result: InstallResult) -> None:
    """Warn about ``.gitattributes`` lines that still say ``merge=revgraph`` after uninstall.

    uninstall removes only the lines it wrote. A line the user edited (say
    ``<lock> merge=revgraph -diff``) or wrote is theirs, and stays; but once
    the driver's git config is gone, git (checked with 2.39, ll-merge.c)
    treats a ``merge=NAME`` with no ``merge.NAME.*`` config at all as its
    built-in 3-way text merge, silently; and with some ``merge.NAME.*`` key
    left but no ``driver`` it stops every merge of such a file with "fatal:
    custom merge driver NAME lacks command line".
    """
    if os.path.islink(files.root / GITATTRIBUTES):
        return  # git reads no attributes through a link; ``_plan_attributes`` named the lines
    text = files.read(GITATTRIBUTES)
    if text is None:
        return
    left = [
        (number, _bare(line).strip())
        for number, line in enumerate(_lines(text), start=1)
        if not _bare(line).lstrip().startswith("#") and _NAMES_DRIVER.search(_bare(line))
    ]
    if not left:
        return
    remaining = _driver_keys_left(repo)
    if f"merge.{DRIVER_NAME}.driver" in remaining:
        return  # defined in another config file (global, system): git keeps using it
    if remaining:
        effect = (
            f"git config still has {', '.join(sorted(remaining))} but no merge.{DRIVER_NAME}.driver, so git "
            f'stops every merge of a file it matches with "fatal: custom merge driver {DRIVER_NAME} lacks command line"'
        )
    else:
        effect = (
            f"with no merge.{DRIVER_NAME} driver in git config, git silently merges the files it matches "
            "with its built-in 3-way text merge (a clash leaves conflict markers, without revgraph's message)"
        )
    for number, line in left:
        result.warnings.append(
            f"{GITATTRIBUTES}:{number}: `{line}` still names the {DRIVER_NAME} merge driver "
            f"(not the line revgraph wrote, so it was left as it is); {effect}. "
            f"Remove `{_ATTRIBUTE}` from it, or run `revgraph install` to wire the driver again"
        )


def _driver_keys_left(repo) -> set[str]:
    """The ``merge.revgraph.*`` keys git will still see once our local ones are unset.

    Every scope's keys minus one local occurrence of each of ours (no
    ``--show-scope``: git older than 2.26 lacks it).
    """
    if repo is None:
        return set()
    from collections import Counter

    def keys(*scope: str) -> Counter:
        done = repo.git("config", *scope, "--get-regexp", rf"^merge\.{DRIVER_NAME}\.", ok=(0, 1))
        rows = done.stdout.decode("utf-8", "surrogateescape").splitlines()
        return Counter(row.split(" ", 1)[0].lower() for row in rows if row)

    ours = Counter({key: 1 for key in keys("--local") if key in CONFIG_KEYS})
    return set(keys() - ours)


__all__ = [
    "Change",
    "InstallResult",
    "add_attribute_lines",
    "add_post_write_hook_ini",
    "add_post_write_hook_toml",
    "add_pre_commit_hooks",
    "attribute_line",
    "attribute_pattern",
    "driver_command",
    "install",
    "pre_commit_files_regex",
    "remove_attribute_lines",
    "remove_post_write_hook_ini",
    "remove_post_write_hook_toml",
    "remove_pre_commit_hooks",
    "uninstall",
]
