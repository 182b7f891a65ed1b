"""Findings are data: every output format renders the same object."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Location:
    path: str  # POSIX, relative to the repository root
    line: int = 1


def command_path(path: str, root: str | None, start: str | None) -> str:
    """``path`` (POSIX, relative to ``root``) as a command run in ``start`` names it.

    ``root`` and ``start`` are absolute POSIX paths (None: unknown, ``path`` as is).
    Fix commands are pasted where revgraph ran, as git's own hints are: in a
    monorepo's ``backend/``, ``git mv -- backend/migrations/...`` names nothing.
    Both absolute, ``relpath`` is string work: no file system, no cwd.
    """
    if root is None or start is None:
        return path
    return posixpath.relpath(posixpath.normpath(posixpath.join(root, path)), start)


@dataclass(frozen=True)
class Finding:
    code: str  # "RG101"
    severity: Severity
    message: str  # one line, names revisions and path:line
    environment: str = "default"
    revisions: tuple[str, ...] = ()
    locations: tuple[Location, ...] = ()
    explanation: str = ""  # the longer paragraph (doctor, rules)
    fix: str | None = None  # the exact command that fixes it, when one exists

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "environment": self.environment,
            "revisions": list(self.revisions),
            "locations": [{"path": loc.path, "line": loc.line} for loc in self.locations],
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Report:
    """The outcome of ``check`` / ``doctor``: findings plus context for renderers."""

    findings: tuple[Finding, ...] = ()
    base: str | None = None
    environments: tuple[str, ...] = ()
    extras: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def failed(self, strict: bool = False) -> bool:
        if strict:
            return any(f.severity in (Severity.ERROR, Severity.WARNING) for f in self.findings)
        return not self.ok
