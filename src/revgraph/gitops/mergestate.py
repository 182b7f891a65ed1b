"""Which git operation is in progress, and whose side is whose.

git's "ours" and "theirs" invert between a merge and a rebase: in a rebase,
HEAD is the upstream being built on and the commit being replayed is
"theirs". revgraph never decides *who moves* from these labels (that is
decided by what has landed); it uses them only to name sides in messages and
to tell the user which ``--continue`` to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Operation:
    kind: str  # "merge" | "squash" | "rebase" | "cherry-pick" | "revert" | "am"
    ours: str | None  # sha of HEAD (the side being built on)
    theirs: str | None  # sha of the commit coming in
    continue_command: str
    backend: str | None = None  # rebase: "merge" or "apply"
    onto: str | None = None  # rebase: the commit the replayed ones are built on
    branch: str | None = None  # rebase: the branch being rebased ("main"), None when detached
    orig_head: str | None = None  # rebase: the branch's tip before it (every commit still to replay)


def _read_sha(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    first = text.split()[0] if text else ""
    return first if len(first) in (40, 64) else None


def _read_branch(path: Path) -> str | None:
    """A rebase's ``head-name``: ``refs/heads/main`` -> ``main``; None when detached or unknown."""
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape").strip()
    except OSError:
        return None
    return text.removeprefix("refs/heads/") if text.startswith("refs/heads/") else None


def detect_operation(git_dir: Path, head_sha: str | None) -> Operation | None:
    """The in-progress operation in ``git_dir`` (the per-worktree git dir), or None."""
    git_dir = Path(git_dir)
    if (git_dir / "rebase-merge").is_dir():
        state = git_dir / "rebase-merge"
        theirs = _read_sha(git_dir / "REBASE_HEAD") or _read_sha(state / "stopped-sha")
        return Operation("rebase", head_sha, theirs, "git rebase --continue", backend="merge",
                         onto=_read_sha(state / "onto"), branch=_read_branch(state / "head-name"),
                         orig_head=_read_sha(state / "orig-head"))  # fmt: skip
    apply_dir = git_dir / "rebase-apply"
    if apply_dir.is_dir():
        if (apply_dir / "applying").exists():
            return Operation("am", head_sha, None, "git am --continue", backend="apply")
        theirs = _read_sha(git_dir / "REBASE_HEAD") or _read_sha(apply_dir / "original-commit")
        return Operation("rebase", head_sha, theirs, "git rebase --continue", backend="apply",
                         onto=_read_sha(apply_dir / "onto"), branch=_read_branch(apply_dir / "head-name"),
                         orig_head=_read_sha(apply_dir / "orig-head"))  # fmt: skip
    if (git_dir / "MERGE_HEAD").exists():
        return Operation("merge", head_sha, _read_sha(git_dir / "MERGE_HEAD"), "git merge --continue")
    if (git_dir / "CHERRY_PICK_HEAD").exists():
        return Operation(
            "cherry-pick", head_sha, _read_sha(git_dir / "CHERRY_PICK_HEAD"), "git cherry-pick --continue"
        )
    if (git_dir / "REVERT_HEAD").exists():
        return Operation("revert", head_sha, _read_sha(git_dir / "REVERT_HEAD"), "git revert --continue")
    if (git_dir / "SQUASH_MSG").is_file():
        # `git merge --squash` records no MERGE_HEAD: its message lists the commits
        # squashed, newest first. It ends with a plain commit (git removes the file).
        return Operation("squash", head_sha, _squashed_tip(git_dir / "SQUASH_MSG"), "git commit")
    return None


def _squashed_tip(path: Path) -> str | None:
    """The newest commit ``SQUASH_MSG`` lists (``commit <sha>`` lines, newest first)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("commit "):
            sha = line[len("commit "):].strip()
            return sha if len(sha) in (40, 64) else None
    return None
