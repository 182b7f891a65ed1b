"""How git is run to read trees: options and environment (standard library only).

A flat versions folder of 20k revisions is a 1.3 MB tree object, stored
(after any gc, or fast-import) at the end of a chain of deltas. git's delta
base cache (96 MB by default) keeps every step of the chain, and glibc hands
each step fresh pages (an mmap, or heap it trimmed off a moment before):
~10k page faults per tree read, the larger part of its time. A small cache
and a heap that keeps freed buffers let the chain reuse them. Measured at
20k revisions (min of 5): diff-tree 42 -> 28 ms, ls-tree 41 -> 23 ms,
merge-tree 80 -> 58 ms, the merge driver's `cat-file --batch` of two trees
39 -> 15 ms; page faults 10.5k -> 3.2k per diff-tree.

Only for reading trees: blob reads need the cache (`cat-file --batch` of 20k
blobs with a 4 MB cache: 0.36 -> 2.8 s). The variables mean nothing to other
allocators than glibc's; glibc ignores a value it refuses.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

def git_environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every git process of revgraph's runs with: no optional locks (a
    read never takes the index lock), and pathspecs that are paths, as alembic reads
    them (the user's icase/glob pathspec variables dropped); revgraph passes
    ``--git-dir`` itself. (``express.git_environ`` is a copy, kept off gittune's import.)"""
    environ = dict(os.environ)
    environ["GIT_OPTIONAL_LOCKS"] = "0"
    environ["GIT_LITERAL_PATHSPECS"] = "1"
    for name in ("GIT_ICASE_PATHSPECS", "GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS"):
        environ.pop(name, None)
    environ.pop("GIT_DIR", None)
    environ.pop("GIT_WORK_TREE", None)
    if extra:
        environ.update(extra)
    return environ


TREE_READS = frozenset({"diff-tree", "ls-tree", "merge-tree"})
TREE_READ_CONFIG = ("-c", "core.deltaBaseCacheLimit=4m")
TREE_READ_ENVIRON = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(64 << 20)}

# The merge driver's one read of both sides' commits and folder trees (union.py):
# started early from a memo and again by the decision, the two must be the same.
TREE_BATCH_ARGS = (*TREE_READ_CONFIG, "cat-file", "--batch")


def reads_trees(args: Sequence[str]) -> bool:
    """Whether ``git <args>`` reads trees only (and gets the options above)."""
    return bool(args) and args[0] in TREE_READS
