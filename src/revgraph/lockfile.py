"""The heads lock file (PRODUCT §5): pure text in, text out.

One line per head, so that two branches which both add a revision on the same
head both change the same line and git stops at the merge instead of at
deploy. Lines look like::

    head: 3f1c2a9b7e10  add tasks table
    reporting: 9a8b7c6d5e4f  reporting views

The label is the head's branch label where it has one, else ``head``. The
message is informational; only ids are compared. This module imports nothing
heavy: the merge driver depends on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The console_scripts entry point of the alembic post_write_hooks entry that
# `revgraph install --post-write-hook` writes (pyproject.toml [project.scripts]):
# here, in the pure core, so that fix planning can recognise that hook too.
POST_WRITE_ENTRYPOINT = "revgraph-post-write"

HEADER = (
    "# revgraph heads lock: one line per Alembic head, written by `revgraph lock`.\n"
    "# If git reports a conflict here, two branches both added a migration on the same\n"
    "# head. Resolve it with `revgraph fix` (it re-points the branch's new revision onto\n"
    "# the landed head and rewrites this file), then `git add` it and continue.\n"
)

_LINE = re.compile(r"^(?P<label>[^\s:#][^:]*?):\s+(?P<id>[^\s#]+)(?:\s+(?P<message>.*))?$")
_MARKER = re.compile(r"^(<{7}|={7}|>{7}|\|{7})(\s|$)")


@dataclass(frozen=True)
class LockEntry:
    label: str
    revision: str
    message: str = ""


@dataclass(frozen=True)
class LockFile:
    entries: tuple[LockEntry, ...] = ()
    environment: str | None = None
    conflicted: bool = False

    @property
    def heads(self) -> tuple[str, ...]:
        return tuple(sorted({e.revision for e in self.entries}))


def clean_message(message: str | None) -> str:
    # One line, no control characters: a message must never break the format.
    text = " ".join((message or "").split())
    return text[:120]


def render_lock(entries: list[LockEntry] | tuple[LockEntry, ...], environment: str | None = None, *, newline: str = "\n") -> str:
    lines = HEADER.splitlines()
    if environment and environment != "default":
        lines.append(f"# environment: {environment}")
    for entry in sorted(entries, key=lambda e: (e.label != "head", e.label, e.revision)):
        msg = clean_message(entry.message)
        lines.append(f"{entry.label}: {entry.revision}" + (f"  {msg}" if msg else ""))
    return newline.join(lines) + newline


def parse_lock(text: str) -> LockFile:
    """Tolerant: a BOM, comments, blank lines, CRLF and conflict markers are fine."""
    entries: list[LockEntry] = []
    environment = None
    conflicted = False
    # An editor's BOM made the header line an entry: a head "one" (from "...: one line").
    for raw in text.lstrip("\ufeff").splitlines():
        line = raw.strip()
        if not line:
            continue
        if _MARKER.match(line):
            conflicted = True
            continue
        if line.startswith("#"):
            m = re.match(r"#\s*environment:\s*(\S+)", line)
            if m:
                environment = m.group(1)
            continue
        m = _LINE.match(line)
        if m:
            entries.append(LockEntry(m.group("label").strip(), m.group("id"), (m.group("message") or "").strip()))
    return LockFile(tuple(entries), environment, conflicted)


def is_lock_text(data: bytes | str) -> bool:
    """Whether ``data`` is a heads lock file revgraph may read and overwrite as its own.

    Yes when it is empty; when its first line (past a BOM, blank lines and git's
    conflict markers) is the header ``render_lock`` writes; or when every such
    line is a comment or a ``label: id`` entry and one at least is an entry (a
    lock written by hand, or the merge driver's conflict text). An alembic.ini,
    an env.py, a revision file or a pyproject.toml is none of these: pointing
    ``lock_file`` at it must not replace the user's file.
    """
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines()]
    lines = [line for line in lines if line and not _ANY_MARKER.match(line)]
    if not lines or lines[0].startswith(_HEADER_START):
        return True
    entries = [line for line in lines if not line.startswith("#")]
    return bool(entries) and all(_LINE.match(line) for line in entries)


_HEADER_START = HEADER.split(":", 1)[0]  # "# revgraph heads lock"
# Conflict markers of any size (git's conflict-marker-size attribute, the driver's %L).
_ANY_MARKER = re.compile(r"^(<{7,}|={7,}|>{7,}|\|{7,})(\s|$)")


def entries_for(graph) -> list[LockEntry]:
    """Lock entries for a RevisionGraph's heads (labelled by branch label where it has one)."""
    out = []
    for head in graph.heads:
        rev = graph[head]
        labels = rev.branch_labels or graph.labels_of(head)
        out.append(LockEntry(labels[0] if labels else "head", head, rev.message or ""))
    return out


def detect_newline(data: bytes | str) -> str:
    sample = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return "\r\n" if "\r\n" in sample else "\n"


# ------------------------------------------------ .gitattributes (pure reading)
# What tells that a project keeps a heads lock file although the working tree
# has none (RG401 "missing"): a ``merge=revgraph`` line for it. The files are
# read by the caller; these functions only read their text.
DRIVER_ATTRIBUTE = "merge=revgraph"


def attribute_files(lock_rel: str) -> tuple[str, ...]:
    """The repo-relative ``.gitattributes`` files that may speak for ``lock_rel``,
    shallowest first: the top one, then one in each folder down to the lock's."""
    parts = [p for p in lock_rel.split("/")[:-1] if p]
    return tuple("/".join([*parts[:depth], ".gitattributes"]) for depth in range(len(parts) + 1))


def driven_by_attributes(texts: dict[str, str] | list[tuple[str, str]], lock_rel: str) -> bool:
    """Whether the ``.gitattributes`` ``texts`` (repo-relative path -> text, as
    ``attribute_files`` names them) give ``lock_rel`` ``merge=revgraph``.

    Read as git reads them: a deeper file and a later line win; ``-merge``,
    ``!merge``, a bare ``merge``, another ``merge=`` value and the ``binary``
    macro take it away again. ``$GIT_DIR/info/attributes`` is not read.
    """
    items = texts.items() if isinstance(texts, dict) else texts
    value: str | None = None
    for path, text in sorted(items, key=lambda item: item[0].count("/")):
        folder = path.rpartition("/")[0]
        if folder and not lock_rel.startswith(folder + "/"):
            continue
        rel = lock_rel[len(folder) + 1 :] if folder else lock_rel
        for line in text.splitlines():
            parsed = _attribute_line(line)
            if parsed is None or not _attribute_matches(parsed[0], rel):
                continue
            for token in parsed[1]:
                if token.startswith("merge="):
                    value = token
                elif token in ("merge", "-merge", "!merge", "binary"):
                    value = None
    return value == DRIVER_ATTRIBUTE


_C_UNESCAPE = {"\\": "\\", '"': '"', "t": "\t", "n": "\n", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _attribute_line(line: str) -> tuple[str, list[str]] | None:
    """``(pattern, attributes)`` of one ``.gitattributes`` line; None for a comment or blank."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if text.startswith('"'):  # a C-quoted pattern
        out, i = [], 1
        while i < len(text) and text[i] != '"':
            if text[i] == "\\" and i + 1 < len(text):
                octal = re.match(r"[0-7]{3}", text[i + 1 :])
                if octal:
                    out.append(chr(int(octal.group(), 8)))
                    i += 4
                    continue
                out.append(_C_UNESCAPE.get(text[i + 1], text[i + 1]))
                i += 2
                continue
            out.append(text[i])
            i += 1
        return "".join(out), text[i + 1 :].split()
    fields = text.split(None, 1)
    return fields[0], fields[1].split() if len(fields) > 1 else []


def _attribute_matches(pattern: str, rel: str) -> bool:
    """gitattributes (gitignore-style) matching of ``pattern`` against ``rel``, a file
    relative to the folder of the ``.gitattributes`` that holds the pattern."""
    if not pattern or pattern.startswith("!") or pattern.endswith("/"):
        return False  # negation is forbidden there; a folder pattern matches no file
    if "/" not in pattern:
        return _glob(pattern, "**/").fullmatch(rel) is not None
    return _glob(pattern.lstrip("/"), "").fullmatch(rel) is not None


def _glob(pattern: str, prefix: str) -> re.Pattern[str]:
    """``pattern`` (``*`` and ``?`` within one name, ``**`` across names) as a regex."""
    out = ["(?:.*/)?"] if prefix else []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape(ch))
                i += 1
            else:
                body = pattern[i + 1 : end]
                if body[:1] == "!":
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        elif ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(ch))
            i += 1
    return re.compile("".join(out), re.DOTALL)
