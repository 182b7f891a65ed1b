"""Errors are types: each carries a message for the user and an exit code.

The CLI prints ``RevgraphError`` subclasses as one line without a traceback.
Exit codes follow PRODUCT §2 / ARCHITECTURE: 0 clean, 1 findings, 2 could not
run (usage, config, git), 3 a bug of ours.
"""

from __future__ import annotations


class RevgraphError(Exception):
    """Base class: a problem we can explain to the user."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class UsageError(RevgraphError):
    """Bad arguments or options."""


class ConfigError(RevgraphError):
    """No environment, unreadable or broken alembic / revgraph configuration."""


class GitError(RevgraphError):
    """Not a git repository, unknown ref, missing base, git failed."""


class NotInRepository(GitError):
    """git found no repository there: revgraph reads the files alone (``Workspace.maybe_repo``)."""


class UnknownRefError(GitError):
    def __init__(self, ref: str, *, hint: str | None = None, fetchable: bool = True) -> None:
        # ``fetchable`` False: there is no remote to fetch it from (a repository made here).
        super().__init__(
            f"unknown ref {ref!r}; did you fetch it?" if fetchable else f"unknown ref {ref!r}",
            hint=hint or _fetch_hint(ref),
        )
        self.ref = ref


class BadRefError(UnknownRefError):
    """A ref that cannot name a snapshot (empty, a range, a blob): no fetch would help.

    An UnknownRefError still, so that code trying a name as a commit and then
    as a tree goes on to the tree, as it does for any unknown name.
    """

    def __init__(self, ref: str, message: str, *, usage: bool = False, hint: str | None = None) -> None:
        GitError.__init__(self, message, hint=hint)
        self.ref = ref
        self.usage = usage  # the user's mistake in writing it, not the repository's state


def _fetch_hint(ref: str) -> str | None:
    import re  # only when a ref is unknown

    if re.fullmatch(r"[0-9a-fA-F]{7,64}", ref):
        return "if that commit is only in another clone, fetch a branch that holds it"
    if any(c in ref for c in ":^~@{ ") or ref.startswith("-"):
        return None  # an expression, not a branch name: a fetch hint would not fit
    # A plain `git fetch origin X` only sets FETCH_HEAD in a single-branch
    # clone (what CI checks out); name the destination so X resolves after.
    branch = ref.removeprefix("origin/")
    return f"if it is a remote branch, try: git fetch origin {branch}:refs/remotes/origin/{branch}"


class FixRefused(RevgraphError):
    """A fix would break a promise (move a landed revision, …); nothing was written.

    ``hint_if_no_merge``: for a refusal whose hint offers ``revgraph fix --strategy
    merge``, the start of the hint to give instead where no merge revision can be
    rendered; the reason why not follows it (see ``fixes.rebase.plan_rebase``).
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, hint_if_no_merge: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.hint_if_no_merge = hint_if_no_merge


class WriteError(RevgraphError):
    """A write failed; every file was left as it was."""


class ConcurrentEditError(WriteError):
    """A file changed between planning and writing; nothing was written."""
