"""`fix` end to end on random histories, and a reader that survives any header (issue 9 §6).

tests/property/ holds the planner-level properties (plans on in-memory
files). Here the same promises are checked the way a user meets them: real
files in a real git repository whose ``main`` has landed, repaired through
``api.fix`` with either strategy, and read back with a deliberately trivial
reader of our own (not revgraph's):

* exactly one head per labelled line afterwards;
* every landed file byte-identical to ``main``;
* the same revisions, plus (``--strategy merge``) one merge revision per line that had
  several heads, joining exactly that line's heads;
* the lock file names the new heads;
* a second ``fix`` changes nothing.
"""

from __future__ import annotations

import ast
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from revgraph.errors import FixRefused
from tests.hostile.corpus import VERSIONS, revision_text, run_in_process, tracebacks
from tests.support.gitrepo import GitRepo

LOCK = "migrations/revgraph.lock"
FIXTURES_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
# Each example builds a repository: shrinking a failure could take many minutes, and the
# failing history is printed whole anyway.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
_ids = st.integers(0, 16**12 - 1).map(lambda n: f"{n:012x}")


# ---------------------------------------------------------------- histories
@dataclass
class Rev:
    id: str
    down: tuple[str, ...]
    label: str | None = None


@dataclass
class History:
    landed: list[Rev] = field(default_factory=list)
    new: list[Rev] = field(default_factory=list)


@st.composite
def histories(draw, labelled: bool) -> History:
    """A landed main with one head per line, and new chains hanging off landed revisions.

    Unlabelled: a trunk, possibly with an already merged fork (a landed merge
    revision). Labelled: two labelled lines off the base; each new chain then
    hangs off a member of one line, so it plainly continues that line.
    """
    ids = iter(draw(st.lists(_ids, min_size=24, max_size=24, unique=True)))
    history = History()

    def land(down: tuple[str, ...], label: str | None = None) -> str:
        history.landed.append(Rev(next(ids), down, label))
        return history.landed[-1].id

    base = land(())
    anchors = [base]
    if labelled:
        anchors = []
        for label in ("billing", "reporting"):
            tip = base
            for position in range(draw(st.integers(1, 3))):
                tip = land((tip,), label if position == 0 else None)
                anchors.append(tip)
    else:
        tip = base
        for _ in range(draw(st.integers(0, 3))):
            tip = land((tip,))
            anchors.append(tip)
        if draw(st.booleans()):  # a fork that main already merged
            left, right = land((tip,)), land((tip,))
            anchors += [left, right, land((left, right))]
    for _ in range(draw(st.integers(1, 3))):
        tip = draw(st.sampled_from(anchors))
        for _ in range(draw(st.integers(1, 2))):
            history.new.append(Rev(next(ids), (tip,)))
            tip = history.new[-1].id
    return history


def write_revision(repo: GitRepo, rev: Rev, minute: int) -> None:
    down = rev.down[0] if len(rev.down) == 1 else None
    text = revision_text(rev.id, down, down_expr=repr(rev.down) if len(rev.down) > 1 else None)
    if rev.label:
        text = text.replace("branch_labels = None", f"branch_labels = ({rev.label!r},)")
    minute_text = f"{minute // 60:02d}:{minute % 60:02d}"
    repo.write(f"{VERSIONS}/{rev.id}_rev.py", text.replace("10:00:00", f"{minute_text}:00"))


def build(history: History, folder: Path) -> GitRepo:
    repo = GitRepo.init(folder)
    repo.init_env(commit=False)
    minute = 0
    for rev in history.landed:
        write_revision(repo, rev, minute := minute + 1)
    repo.commit("landed")
    assert run_lock(repo) == 0
    repo.commit("lock")
    repo.git("checkout", "-q", "-b", "feature")
    for rev in history.new:
        write_revision(repo, rev, minute := minute + 1)
    repo.commit("new revisions, written against whatever head the author had")
    return repo


def run_lock(repo: GitRepo) -> int:
    from revgraph import api

    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        return 0 if api.lock(ws) else 1


# ------------------------------------------------------------ our own reader
_ASSIGN = re.compile(r"^(revision|down_revision|branch_labels)\b[^=\n]*=\s*(.+?)\s*(?:#.*)?$", re.MULTILINE)


def read_back(repo: GitRepo) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """id -> (down_revisions, branch_labels), read with a regex and ast.literal_eval."""
    found = {}
    for path in sorted((repo.path / VERSIONS).glob("*.py")):
        values = {m.group(1): ast.literal_eval(m.group(2)) for m in _ASSIGN.finditer(path.read_text())}
        as_tuple = lambda v: () if v is None else ((v,) if isinstance(v, str) else tuple(v))
        found[values["revision"]] = (as_tuple(values["down_revision"]), as_tuple(values.get("branch_labels")))
    return found


def heads_by_line(revisions: dict) -> dict[str | None, list[str]]:
    """Heads grouped by the branch label found walking down from each (None: no label)."""
    parents = {p for down, _ in revisions.values() for p in down}
    lines: dict[str | None, list[str]] = {}
    for head in sorted(set(revisions) - parents):
        label, stack, seen = None, [head], set()
        while stack and label is None:
            rid = stack.pop()
            if rid in seen or rid not in revisions:
                continue
            seen.add(rid)
            down, labels = revisions[rid]
            label = labels[0] if labels else None
            stack.extend(down)
        lines.setdefault(label, []).append(head)
    return lines


def landed(history: History) -> dict:
    return {rev.id: (rev.down, (rev.label,) if rev.label else ()) for rev in history.landed}


def versions_bytes(repo: GitRepo) -> dict[str, bytes]:
    files = sorted((repo.path / VERSIONS).glob("*.py")) + [repo.path / LOCK]
    return {p.relative_to(repo.path).as_posix(): p.read_bytes() for p in files}


def fix(repo: GitRepo, strategy: str):
    from revgraph import api

    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        return api.fix(ws, strategy=strategy, stage=False)


# ------------------------------------------------------------------ the fix
def check_fix(history: History, strategy: str, folder: Path) -> None:
    repo = build(history, folder)
    before = read_back(repo)
    crowded = {line: heads for line, heads in heads_by_line(before).items() if len(heads) > 1}
    several = bool(crowded)
    landed_paths = [f"{VERSIONS}/{rev.id}_rev.py" for rev in history.landed]

    refused = False
    try:
        fix(repo, strategy)
    except FixRefused:
        assert strategy == "merge" and not several, "refused a history it should repair"
        refused = True  # only one head: nothing to merge, nothing written
    after = read_back(repo)

    lines = heads_by_line(after)
    assert all(len(heads) == 1 for heads in lines.values()), lines
    for path in landed_paths:
        assert repo.read(path) == repo.show("main", path), f"landed {path} changed"
    added = set(after) - set(before)
    assert set(before) <= set(after)
    if strategy == "merge":  # one merge revision per crowded line, joining that line's heads only
        assert sorted(sorted(after[m][0]) for m in added) == sorted(sorted(h) for h in crowded.values())
    else:
        assert added == set()
    lock_heads = set(re.findall(r"^\S+: (\S+)", repo.read(LOCK).decode(), re.MULTILINE))
    if refused:
        assert after == before and lock_heads == {h for hs in heads_by_line(landed(history)).values() for h in hs}
    else:
        assert lock_heads == {h for hs in lines.values() for h in hs}  # rewritten in the same step

    settled = versions_bytes(repo)
    try:
        second = fix(repo, strategy)
        assert second.plan.is_empty and not second.written
    except FixRefused:
        assert strategy == "merge"  # only one head left: nothing to merge
    assert versions_bytes(repo) == settled


@settings(max_examples=12, deadline=None, suppress_health_check=FIXTURES_OK, phases=NO_SHRINK)
@given(history=histories(labelled=False), strategy=st.sampled_from(["rebase", "merge"]))
def test_fix_leaves_one_head_keeps_landed_bytes_and_is_idempotent(history, strategy, tmp_path, git_env):
    check_fix(history, strategy, Path(tempfile.mkdtemp(dir=tmp_path)) / "repo")


@settings(max_examples=8, deadline=None, suppress_health_check=FIXTURES_OK, phases=NO_SHRINK)
@given(history=histories(labelled=True), strategy=st.sampled_from(["rebase", "merge"]))
def test_fix_on_labelled_lines_leaves_one_head_per_line(history, strategy, tmp_path, git_env):
    check_fix(history, strategy, Path(tempfile.mkdtemp(dir=tmp_path)) / "repo")


# ------------------------------------------------------- mangled headers
HEADER_NOISE = st.sampled_from(
    ["'", '"', '"""', "(", ")", "[", "]", ",", "\\", "\n", "\r", "\r\n", "#", " ", "\t", "=", ":",
     "None", "revision", "down_revision = ", "\x00", "\ufeff", "é", "\udcff", "<<<<<<< ours\n", "0"]
)  # fmt: skip


@st.composite
def mangled(draw) -> bytes:
    """A good revision file with random insertions and deletions in its header."""
    text = revision_text("b1b1b1b1b1b1", "a0a0a0a0a0a0")
    header_end = text.index("def upgrade")
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, header_end))
        if draw(st.booleans()):
            text = text[:at] + draw(HEADER_NOISE) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
    return text.encode("utf-8", "surrogateescape")


@pytest.fixture
def landed_repo(gitrepo) -> GitRepo:
    gitrepo.init_env(commit=False)
    gitrepo.write(f"{VERSIONS}/a0a0a0a0a0a0_base.py", revision_text("a0a0a0a0a0a0", None))
    gitrepo.commit("base")
    gitrepo.git("checkout", "-q", "-b", "feature")
    return gitrepo


@settings(max_examples=15, deadline=None, suppress_health_check=FIXTURES_OK)
@given(data=mangled())
def test_any_mangled_header_gives_an_answer_or_a_finding_never_a_crash(data, landed_repo, capsys):
    rel = f"{VERSIONS}/b1b1b1b1b1b1_mangled.py"
    landed_repo.write(rel, data)

    result = run_in_process(capsys, "-C", str(landed_repo.path), "check", "--format", "json")

    assert not tracebacks(result.text), result.text
    assert result.code in (0, 1), result.text
    if '"RG107"' in result.out:
        assert f'"path": "{rel}"' in result.out
