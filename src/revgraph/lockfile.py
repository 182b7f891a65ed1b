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
    """Tolerant: comments, blank lines, CRLF and conflict markers are fine."""
    entries: list[LockEntry] = []
    environment = None
    conflicted = False
    for raw in text.splitlines():
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
