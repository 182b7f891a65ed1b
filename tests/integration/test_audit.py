"""`revgraph audit` on real repositories whose history is built step by step in the test."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.gitrepo import GitRepo, apply_environ, isolated_environ

# Revision ids, alembic-shaped.
A = "0a0a0a0a0a01"
B = "0b0b0b0b0b02"
C = "0c0c0c0c0c03"
D = "0d0d0d0d0d04"
M = "0e0e0e0e0e05"  # merge revision of C and D
E = "0f0f0f0f0f06"
F = "1a1a1a1a1a07"
G = "1b1b1b1b1b08"
H = "1c1c1c1c1c09"
I = "1d1d1d1d1d10"


def on_day(repo: GitRepo, day: int) -> str:
    """Make the repo's next commits carry a fixed date; returns it as git's %cI prints it."""
    stamp = f"2024-03-{day:02d}T12:00:00+00:00"
    repo.env["GIT_AUTHOR_DATE"] = stamp
    repo.env["GIT_COMMITTER_DATE"] = stamp
    return stamp


def feature(repo, branch: str, rev_id: str, down: str, message: str) -> str:
    """Commit one revision on a new branch from main, then go back to main."""
    repo.git("checkout", "-q", "-b", branch, "main")
    path = repo.add_revision(rev_id, down, message=message)
    repo.commit(f"add {message}")
    repo.checkout("main")
    return path


def merge_in(repo, branch: str) -> str:
    repo.git("merge", "-q", "--no-ff", "--no-edit", branch)
    return repo.head()


def audit_json(repo, *args: str) -> dict:
    done = repo.run("audit", "--format", "json", *args, check=0)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """main's first-parent history, with every commit's sha and date recorded.

    1. environment, base revisions A <- B
    2. C and D land from two branches: two heads (window 1 opens)
    3. merge revision M closes it
    4. B's upgrade body is edited; A only gets a comment (cosmetic)
    5. E and F both on M (window 2), then F re-pointed onto E (closes it)
    6. G added, then deleted
    7. H and I both on F: window 3, still open
    """
    root = tmp_path_factory.mktemp("audit")
    # Built once for the module: isolated like the gitrepo fixture, through the repo's env.
    r = GitRepo.init(root / "repo", apply_environ(isolated_environ(root / "home"), os.environ))
    commits: dict[str, dict] = {}
    paths: dict[str, str] = {}

    def step(name: str, day: int, action) -> None:
        date = on_day(r, day)
        action()
        commits[name] = {"commit": r.head(), "date": date}

    def add(rev_id, down, message) -> None:
        paths[rev_id] = r.add_revision(rev_id, down, message=message)

    def edit(rev_id, old: bytes, new: bytes) -> None:
        data = r.read(paths[rev_id])
        assert old in data, (rev_id, old)
        r.write(paths[rev_id], data.replace(old, new, 1))

    on_day(r, 1)
    r.init_env()
    step("base", 2, lambda: (add(A, None, "create users"), add(B, A, "create tasks"), r.commit("base")))
    on_day(r, 3)
    paths[C] = feature(r, "feat-c", C, B, "add projects")
    paths[D] = feature(r, "feat-d", D, B, "add comments")
    step("merge_c", 4, lambda: merge_in(r, "feat-c"))
    step("merge_d", 5, lambda: merge_in(r, "feat-d"))
    step("merge_rev", 6, lambda: (add(M, (C, D), "merge projects and comments"), r.commit("merge heads")))
    step("edit_b", 7, lambda: (edit(B, b"    pass\n", b"    op.execute('SELECT 1')\n"), r.commit("backfill")))
    step("cosmetic_a", 8, lambda: (edit(A, b"\n\n\ndef upgrade", b"\n# reviewed\n\n\ndef upgrade"), r.commit("comment")))
    step("readme", 9, lambda: (r.write("README.md", "no revisions here\n"), r.commit("docs")))
    step("e_and_f", 10, lambda: (add(E, M, "add teams"), add(F, M, "add tags"), r.commit("teams and tags")))
    step("repoint_f", 11, lambda: (edit(F, M.encode(), E.encode()), edit(F, M.encode(), E.encode()), r.commit("tags after teams")))
    step("add_g", 12, lambda: (add(G, F, "add audit log"), r.commit("audit log")))
    step("delete_g", 13, lambda: (r.remove(paths[G]), r.commit("drop audit log")))
    r.branch("feat-h")
    step("add_i", 14, lambda: (add(I, F, "add stats"), r.commit("stats")))
    r.checkout("feat-h")
    add(H, F, "add avatars")
    r.commit("avatars")
    r.checkout("main")
    step("merge_h", 15, lambda: merge_in(r, "feat-h"))
    del r.env["GIT_AUTHOR_DATE"], r.env["GIT_COMMITTER_DATE"]
    return r, commits, paths


def at(commits: dict, name: str, **extra) -> dict:
    """An event or window end as the JSON reports it (subject aside)."""
    return {**commits[name], **extra}


def strip_subjects(items: list[dict]) -> list[dict]:
    out = []
    for item in items:
        item = {k: v for k, v in item.items() if k != "subject"}
        for end in ("opened", "closed"):
            if isinstance(item.get(end), dict):
                item[end] = {k: v for k, v in item[end].items() if k != "subject"}
        out.append(item)
    return out


def test_audit_reports_exactly_the_windows_and_changes_of_the_history(history):
    repo, commits, paths = history
    report = audit_json(repo, "--ref", "main")

    assert report["version"] == 1
    assert report["ref"] == "main"
    assert report["commit"] == repo.rev_parse("main")
    assert report["commits"] == 14  # every first-parent commit of main
    (env,) = report["environments"]

    assert strip_subjects(env["windows"]) == [
        {
            "opened": at(commits, "merge_d", heads=[C, D]),
            "closed": at(commits, "merge_rev", heads=[M]),
            "closed_by": M,
            "how": "merge revision",
        },
        {
            "opened": at(commits, "e_and_f", heads=[E, F]),
            "closed": at(commits, "repoint_f", heads=[F]),
            "closed_by": None,
            "how": "re-point",
        },
        {
            "opened": at(commits, "merge_h", heads=[H, I]),
            "closed": None,
            "closed_by": None,
            "how": None,
            "heads_now": [H, I],
        },
    ]
    assert strip_subjects(env["merges"]) == [
        at(commits, "merge_rev", revision=M, path=paths[M], parents=[C, D])
    ]
    # A's comment-only change is not an edit (as RG203 sees it); B's body change is.
    assert strip_subjects(env["edited"]) == [at(commits, "edit_b", revision=B, path=paths[B])]
    assert strip_subjects(env["repointed"]) == [
        at(commits, "repoint_f", revision=F, path=paths[F], old=[M], new=[E])
    ]
    assert strip_subjects(env["deleted"]) == [at(commits, "delete_g", revision=G, path=paths[G])]
    assert env["windows"][0]["opened"]["subject"] == "Merge branch 'feat-d'"
    assert env["merges"][0]["subject"] == "merge heads"


def test_audit_since_compares_the_first_commit_with_its_parent(history):
    """A window open when the range starts is reported, opened at the commit before it."""
    repo, commits, _ = history
    report = audit_json(repo, "--ref", "main", "--since", "2024-03-06T00:00:00+00:00")
    assert report["commits"] == 10
    env = report["environments"][0]
    first = strip_subjects(env["windows"])[0]
    assert first == {
        "opened": at(commits, "merge_d", heads=[C, D], before_range=True),
        "closed": at(commits, "merge_rev", heads=[M]),
        "closed_by": M,
        "how": "merge revision",
    }
    assert [m["revision"] for m in env["merges"]] == [M]

    later = audit_json(repo, "--ref", "main", "--since", "2024-03-10T00:00:00+00:00")
    env = later["environments"][0]
    assert later["commits"] == 6
    assert [w["opened"]["commit"] for w in env["windows"]] == [
        commits["e_and_f"]["commit"],
        commits["merge_h"]["commit"],
    ]
    assert env["merges"] == [] and env["edited"] == []
    assert [e["revision"] for e in env["repointed"]] == [F]
    assert [e["revision"] for e in env["deleted"]] == [G]


def test_audit_of_an_older_ref_stops_at_that_commit(history):
    repo, commits, _ = history
    report = audit_json(repo, "--ref", commits["merge_d"]["commit"])
    env = report["environments"][0]
    assert report["commits"] == 4
    assert [(w["opened"]["commit"], w["closed"]) for w in env["windows"]] == [
        (commits["merge_d"]["commit"], None)
    ]
    assert env["edited"] == env["repointed"] == env["deleted"] == env["merges"] == []


def test_audit_text_and_markdown_name_the_open_window_and_the_events(history):
    repo, commits, _ = history
    text = repo.run("audit", "--ref", "main", check=0).stdout
    assert "multi-head windows: 3" in text
    assert f"with heads {H}, {I}; still open" in text
    assert f"closed 2024-03-06 {commits['merge_rev']['commit'][:10]} by merge revision {M}" in text
    assert f"{F}: {M} -> {E}" in text
    assert f"{G} deleted" in text

    markdown = repo.run("audit", "--ref", "main", "--format", "markdown", check=0).stdout
    assert markdown.startswith("## revgraph audit of `main`")
    assert "**still open**" in markdown
    assert f"| repointed | `{F}` |" in markdown


def test_audit_unknown_ref_exits_2(history):
    repo, _, _ = history
    done = repo.run("audit", "--ref", "no-such-branch", check=2)
    assert "no-such-branch" in done.stderr
    assert "Traceback" not in done.stderr


def test_audit_rejects_a_date_git_cannot_read(history):
    repo, _, _ = history
    done = repo.run("audit", "--ref", "main", "--since", "the day before", check=2)
    assert "--since" in done.stderr
    # Shaped as a date but not one: git reads 2024-13-45 as some other day.
    for nonsense in ("2024-13-45", "2024-02-30", "2024-03-01T25:00"):
        done = repo.run("audit", "--ref", "main", "--since", nonsense, check=2)
        assert f"--since {nonsense!r} is not a valid date" in done.stderr
    # Dates git reads as written stay accepted: unpadded, with a time.
    assert audit_json(repo, "--ref", "main", "--since", "2024-3-6")["since"] == "2024-3-6"
    assert audit_json(repo, "--ref", "main", "--since", "2024-03-06 00:00")["since"] == "2024-03-06 00:00"


def test_heads_on_distinct_branch_labels_are_not_a_window(gitrepo):
    r = gitrepo
    r.init_env()
    r.add_revision(A, None, message="shared base", branch_labels="shared")
    r.add_revision(B, None, message="app base", branch_labels="app")
    r.commit("two labelled lines")
    r.add_revision(C, A, message="shared users")
    r.add_revision(D, B, message="app tasks")
    r.commit("one revision on each line")
    r.add_revision(E, B, message="app projects")
    window_sha = r.commit("a second head on the app line")

    env = audit_json(r, "--ref", "main")["environments"][0]
    assert [(w["opened"]["commit"], w["opened"]["heads"]) for w in env["windows"]] == [
        (window_sha, [D, E])
    ]


def test_audit_walks_the_base_branch_by_default_not_the_checked_out_one(gitrepo):
    r = gitrepo
    r.init_env()
    r.add_revision(A, None, message="create users")
    r.commit("users")
    r.git("checkout", "-q", "-b", "feature")
    r.add_revision(B, A, message="create tasks")
    r.add_revision(C, A, message="create projects")
    r.commit("two heads, only on the feature branch")

    report = audit_json(r)
    assert report["ref"] == "main"
    assert report["commit"] == r.rev_parse("main")
    assert report["commits"] == 2
    assert report["environments"][0]["windows"] == []


def test_audit_without_a_base_branch_hints_its_own_option(gitrepo):
    r = gitrepo
    r.init_env()
    r.add_revision(A, None, message="create users")
    r.commit("users")
    r.git("branch", "-q", "-m", "trunk")

    done = r.run("audit", check=2)

    assert "no base branch found" in done.stderr
    assert "--ref REF" in done.stderr and "--base" not in done.stderr


def test_a_window_closed_by_adding_the_missing_link_says_another_change(gitrepo):
    # Replaying a real history (superset's) file by file in date order: a revision
    # dated before its parent opens a window that the parent's commit closes.
    # The line read "closed ... by a other change".
    r = gitrepo
    r.init_env()
    r.add_revision(A, None, message="create users")
    r.commit("users")
    r.add_revision(C, B, message="create projects")
    opened = r.commit("projects, dated before its parent")
    r.add_revision(B, A, message="create tasks")
    closed = r.commit("tasks")
    text = r.run("audit", "--ref", "main", check=0).stdout
    assert "opened 20" in text and f"{opened[:10]} with heads {A}, {C}; closed " in text, text
    assert text.count(f"{closed[:10]} by another change") == 1, text


def _cells(row: str) -> int:
    """The cells of a markdown table row: the pipes that are not escaped, less one."""
    unescaped = 0
    for i, char in enumerate(row):
        if char == "|" and (i == 0 or row[i - 1] != "\\"):
            unescaped += 1
    return unescaped - 1


def test_audit_markdown_keeps_a_hostile_id_and_path_inside_their_cells(gitrepo):
    # QA: a `|` or a backtick in a revision id or a path broke the table and ended the
    # code span, letting raw HTML into the PR comment.
    gitrepo.init_env(commit=False)
    path = "migrations/versions/p|ipe`.py"
    gitrepo.write(path, '"""x"""\nrevision = "a`|<b>B</b>"\ndown_revision = None\n')
    gitrepo.commit("a hostile revision")
    gitrepo.write(path, gitrepo.read(path) + b'\ndef upgrade():\n    op.drop_table("z")\n')
    gitrepo.commit("edited after it landed")

    markdown = gitrepo.run("audit", "--ref", "main", "--format", "markdown", check=0).stdout

    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert any("edited" in row for row in rows), markdown
    assert all(_cells(row) == 4 for row in rows), markdown
    import re

    outside = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", markdown)  # code spans dropped
    assert "<b>" not in outside, outside  # HTML only inside a code span, where it is text
    edited = next(row for row in rows if row.startswith("| edited"))
    assert "``a`\\|<b>B</b>``" in edited, edited  # the id whole, in a span longer than its backticks


def test_heads_whose_lines_share_a_label_are_a_window_as_rg101_says(gitrepo):
    # A tester: x1 declares "ext" on b0's "core" line, c1 grows "core" too. RG101 and
    # alembic (core@head: "Multiple head revisions") see two heads on one line;
    # audit grouped the heads by their exact label sets ({core} and {core, ext}).
    r = gitrepo
    r.init_env()
    r.add_revision(A, None, message="core base", branch_labels="core")
    r.commit("core")
    r.add_revision(B, A, message="ext on core", branch_labels="ext")
    r.add_revision(C, A, message="more core")
    opened = r.commit("a labelled line and an unlabelled head on core")
    assert r.run("check", check=1).stdout.count("RG101") == 1

    env = audit_json(r, "--ref", "main")["environments"][0]

    assert [(w["opened"]["commit"], w["opened"]["heads"], w["closed"]) for w in env["windows"]] == [
        (opened, [B, C], None)
    ]


def test_reordering_a_merge_revisions_parents_is_not_a_re_point(gitrepo):
    r = gitrepo
    r.init_env()
    r.add_revision(A, None, message="root")
    r.add_revision(B, A, message="left")
    r.add_revision(C, A, message="right")
    path = r.add_revision(D, (B, C), message="join")
    r.commit("a joined fork")
    r.write(path, r.read(path).replace(f"('{B}', '{C}')".encode(), f"('{C}', '{B}')".encode()))
    assert r.status().strip()  # the edit happened
    r.commit("the same parents, the other way round")

    env = audit_json(r, "--ref", "main")["environments"][0]

    assert env["repointed"] == []


def test_a_window_still_open_names_the_heads_that_keep_it_open_now(gitrepo):
    # A tester: b and c forked (window opened), d forked too, then merge m joined b
    # and c. "still open with heads b, c": alembic's heads are now d and m.
    r = gitrepo
    r.init_env()
    r.add_revision(A, None, message="root")
    r.commit("root")
    r.add_revision(B, A, message="b")
    r.add_revision(C, A, message="c")
    r.commit("fork")
    r.add_revision(D, A, message="d")
    r.commit("another fork")
    r.add_revision(E, (B, C), message="join b and c")
    r.commit("merge b and c")

    env = audit_json(r, "--ref", "main")["environments"][0]
    text = r.run("audit", "--ref", "main", check=0).stdout

    [window] = env["windows"]
    assert window["closed"] is None and window["opened"]["heads"] == [B, C]
    assert window["heads_now"] == [D, E]
    assert f"still open (heads now {D}, {E})" in text
    assert sorted(r.alembic("heads").stdout.split()[::2]) == [D, E]


def test_since_reaches_past_a_commit_whose_clock_was_wrong(gitrepo, monkeypatch):
    # A tester: git rev-list --since stops at the first older commit. One commit dated
    # 2019 cut the range there, and the window opened on 2024-04-01 was called
    # "open before the range, at 2019-01-01".
    r = gitrepo
    r.init_env()

    def commit_on(date: str, message: str) -> str:
        monkeypatch.setenv("GIT_COMMITTER_DATE", f"{date}T12:00:00+00:00")
        return r.commit(message)

    r.add_revision(A, None, message="root")
    commit_on("2024-01-10", "root")
    r.add_revision(B, A, message="b")
    commit_on("2024-02-10", "b")
    r.add_revision(C, A, message="c")
    opened = commit_on("2024-04-01", "c forks")
    r.write("notes.txt", "clock\n")
    commit_on("2019-01-01", "a machine with a wrong clock")
    r.add_revision(D, (B, C), message="join")
    closed = commit_on("2024-05-01", "merge revision")

    report = audit_json(r, "--ref", "main", "--since", "2024-03-01")

    assert report["commits"] == 3
    [window] = report["environments"][0]["windows"]
    assert window["opened"]["commit"] == opened and "before_range" not in window["opened"]
    assert window["closed"]["commit"] == closed and window["closed_by"] == D


def test_a_shallow_clones_boundary_is_not_the_start_of_history(gitrepo, tmp_path):
    # A tester: in a --depth 2 clone, the merge revision m was "added" at the boundary
    # commit, and the window open there "opened" at it, with no word of the cut.
    r = gitrepo
    r.init_env()
    r.add_revision(A, None, message="root")
    r.add_revision(B, A, message="b")
    r.add_revision(C, A, message="c")
    r.commit("fork")
    r.add_revision(D, (B, C), message="join")
    r.commit("merge revision")
    r.add_revision(E, A, message="e")
    r.commit("a fork that stays open")
    r.write("notes.txt", "1\n")
    boundary = r.commit("unrelated 1")
    r.write("notes.txt", "2\n")
    r.commit("unrelated 2")
    r.git("clone", "-q", "--depth", "2", f"file://{r.path}", str(tmp_path / "shallow"))
    shallow = GitRepo(tmp_path / "shallow", r.env)

    report = audit_json(shallow, "--ref", "main")
    text = shallow.run("audit", "--ref", "main", check=0).stdout

    assert report["commits"] == 2 and report["shallow_boundary"] == boundary
    env = report["environments"][0]
    assert env["merges"] == []  # added before the boundary, when is unknown
    [window] = env["windows"]
    assert window["opened"]["commit"] == boundary and window["opened"]["before_range"] is True
    assert f"history is cut off at {boundary[:10]} (a shallow clone)" in text
    assert audit_json(r, "--ref", "main")["shallow_boundary"] is None
