"""Control characters in revision ids, messages and paths are shown, not obeyed.

Found by a tester: a revision id holding ``\\x1b[2J\\x1b]2;TITLE\\x07`` cleared
the screen and retitled the terminal through `heads`, `diff`, `graph`,
`check` and their warnings; the picture formats already replaced such
characters. Real repository, real CLI, with and without colour.
"""

from __future__ import annotations

import pytest

HOSTILE = "e\x1b[2J\x1b]2;TITLE\x07\u202ez"


@pytest.fixture
def hostile(gitrepo):
    gitrepo.init_env(commit=False)
    gitrepo.add_revision("a0a0a0a0a0a0", None, message="base")
    gitrepo.commit("base")
    body = f'"""msg \x1b[31mred"""\nrevision = {HOSTILE!r}\ndown_revision = "a0a0a0a0a0a0"\n'
    gitrepo.write("migrations/versions/e.py", body)
    gitrepo.branch("feature")  # audit and collisions read it committed, on a branch
    gitrepo.checkout("feature")
    gitrepo.add_revision("b1b1b1b1b1b1", "a0a0a0a0a0a0", message="a fork to report")
    gitrepo.commit("feature: the hostile revision")
    gitrepo.checkout("main")
    gitrepo.add_revision("c2c2c2c2c2c2", "a0a0a0a0a0a0", message="main's own")
    gitrepo.commit("main moves on")
    gitrepo.write("migrations/versions/e.py", body)  # and in the working tree too
    return gitrepo


@pytest.mark.parametrize(
    "args",
    [("heads", "-v"), ("diff", "HEAD"), ("graph", "--focus", "all"), ("check",), ("doctor",),
     ("audit", "--ref", "feature"), ("collisions", "feature", "--base", "main")],
)
@pytest.mark.parametrize("color", ["--no-color", "--color"])
def test_text_output_carries_no_control_character_of_the_files(hostile, args, color):
    done = hostile.run(color, *args)

    assert "Traceback" not in done.stderr
    for stream in (done.stdout, done.stderr):  # rich's own colours aside (\x1b[1m ...)
        for obeyed in ("\x1b[2J", "\x1b]", "\x07", "\u202e"):
            assert obeyed not in stream, (args, obeyed, stream)
    assert "\ufffd[2J" in done.stdout + done.stderr, (args, done.stdout, done.stderr)  # shown instead
