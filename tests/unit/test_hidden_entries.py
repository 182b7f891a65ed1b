"""``express.hidden_paths``: index entries git status and git add do not look at."""

from __future__ import annotations

import pytest

from revgraph.express import hidden_paths


@pytest.mark.parametrize(
    ("output", "hidden"),
    [
        (b"", []),
        (b"H a.py\0H b.py\0", []),
        (b"M c.py\0M c.py\0H d.py\0", []),  # unmerged stages: git status lists them
        (b"h a.py\0H b.py\0", [b"a.py"]),  # assume-unchanged, first record
        (b"H a.py\0S b.py\0", [b"b.py"]),  # skip-worktree
        (b"H a.py\0s b.py\0c c.py\0", [b"b.py", b"c.py"]),  # lowercase: assume-unchanged too
        (b"H with\nnewline H.py\0h x H y.py\0", [b"x H y.py"]),  # names that look like tags
    ],
)
def test_hidden_entries_are_found_whatever_their_place(output, hidden):
    assert hidden_paths(output) == hidden
