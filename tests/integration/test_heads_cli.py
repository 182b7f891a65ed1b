"""`revgraph heads`: any snapshot, read-only, with the JSON contract of PRODUCT §6.

``--ref`` reads another branch from git's object database: the answer is that
branch's heads, and the working tree, the index file (byte for byte) and
``git status`` are exactly as before. On this project's own checkout the heads
are the bundled example's, as alembic's ``ScriptDirectory`` computes them.
"""

from __future__ import annotations

import json
import sys

import pytest

from revgraph import api
from tests.support import EXAMPLE_MIGRATIONS, REPO_ROOT
from tests.support.gitrepo import GitRepo
from tests.support.gitrepo import run_module


def assert_no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "internal error" not in stderr, stderr


def real_heads_json(repo: GitRepo, *args: str) -> dict:
    """The installed command in a subprocess."""
    done = repo.run("heads", "--json", *args)
    assert_no_traceback(done.stderr)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def heads_json(capsys):
    """The same command in-process (``revgraph.cli.run``): fast, same code path."""
    from revgraph.cli import run

    def invoke(repo: GitRepo, *args: str) -> dict:
        capsys.readouterr()
        code = run(["-C", str(repo.path), "heads", "--json", *args])
        out, err = capsys.readouterr()
        assert_no_traceback(err)
        assert code == 0, err
        return json.loads(out)

    return invoke


def two_branches(repo: GitRepo) -> None:
    """main: a <- b. other: a <- c, a <- d (two heads) and a base e. Checked out: main."""
    repo.init_env()
    repo.add_revision("aaaa01", None, message="a")
    repo.commit("a")
    repo.branch("other")
    repo.add_revision("bbbb02", "aaaa01", message="b")
    repo.commit("b")
    repo.checkout("other")
    repo.add_revision("cccc03", "aaaa01", message="c")
    repo.add_revision("dddd04", "aaaa01", message="d")
    repo.add_revision("eeee05", None, message="e", branch_labels="billing")
    repo.commit("c d e")
    repo.checkout("main")


def snapshot_of_checkout(repo: GitRepo) -> tuple:
    """Everything a read-only command must leave alone."""
    files = sorted(
        (p.relative_to(repo.path).as_posix(), p.read_bytes())
        for p in repo.path.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(repo.path).parts
    )
    return (repo.status(), repo.read(".git/index"), repo.head(), repo.current_branch(), files)


# -------------------------------------------------------------------- --ref
def test_ref_of_another_branch_gives_its_heads_and_touches_nothing(gitrepo, heads_json):
    two_branches(gitrepo)
    before = snapshot_of_checkout(gitrepo)
    assert before[0] == ""
    other = real_heads_json(gitrepo, "--ref", "other")
    current = heads_json(gitrepo)
    assert snapshot_of_checkout(gitrepo) == before
    assert other["environments"][0]["heads"] == ["cccc03", "dddd04", "eeee05"]
    assert other["environments"][0]["bases"] == ["aaaa01", "eeee05"]
    assert current["environments"][0]["heads"] == ["bbbb02"]


def test_ref_leaves_a_dirty_checkout_exactly_as_it_was(gitrepo, heads_json):
    two_branches(gitrepo)
    gitrepo.add_revision("ffff06", "bbbb02", message="untracked")
    gitrepo.write("alembic.ini", gitrepo.read("alembic.ini") + b"\n# edited\n")
    gitrepo.git("add", "alembic.ini")
    before = snapshot_of_checkout(gitrepo)
    other = heads_json(gitrepo, "--ref", "other")
    assert other["environments"][0]["heads"] == ["cccc03", "dddd04", "eeee05"]
    assert snapshot_of_checkout(gitrepo) == before
    # and the uncommitted file is part of the working tree's answer
    assert heads_json(gitrepo)["environments"][0]["heads"] == ["ffff06"]


OTHER_HEADS = ["cccc03", "dddd04", "eeee05"]


def test_ref_accepts_any_commit_ish(gitrepo):
    two_branches(gitrepo)
    gitrepo.git("tag", "v1", "other~1")
    expected = {
        "other": OTHER_HEADS,
        "refs/heads/other": OTHER_HEADS,
        gitrepo.rev_parse("other"): OTHER_HEADS,
        "other~1": ["aaaa01"],
        "v1": ["aaaa01"],
        "HEAD": ["bbbb02"],
    }
    with api.Workspace(api.Options(cwd=gitrepo.path)) as ws:
        found = {ref: list(api.heads(ws, ref)[0].graph.heads) for ref in expected}
    assert found == expected


def test_the_index_is_a_snapshot_named_colon(gitrepo, heads_json):
    # PRODUCT §1: the working tree, the index, or a commit-ish. `:` (git's prefix for
    # a path in the index) reads what is staged: the next commit's revisions.
    two_branches(gitrepo)
    gitrepo.add_revision("ffff06", "bbbb02", message="staged")
    gitrepo.git("add", "-A")
    gitrepo.add_revision("gggg07", "ffff06", message="not staged yet")
    before = snapshot_of_checkout(gitrepo)

    assert heads_json(gitrepo, "--ref", ":")["environments"][0]["heads"] == ["ffff06"]
    assert real_heads_json(gitrepo, "--ref", ":")["environments"][0]["heads"] == ["ffff06"]
    assert heads_json(gitrepo)["environments"][0]["heads"] == ["gggg07"]
    assert snapshot_of_checkout(gitrepo) == before
    staged = gitrepo.run("diff", "HEAD", ":", check=True).stdout
    assert "+ ffff06 added" in staged and "gggg07" not in staged
    assert "+ gggg07 added" in gitrepo.run("diff", ":", check=True).stdout
    assert "ffff06 staged [head]" in gitrepo.run("graph", "--ref", ":", check=True).stdout
    for needs_a_commit in (("check", "--base", ":"), ("collisions", ":"), ("audit", "--ref", ":")):
        done = gitrepo.run(*needs_a_commit)
        assert done.returncode == 2 and "':' names the index, which is not a commit" in done.stderr, done.stderr


def test_a_bare_repository_has_no_index_to_read(gitrepo, tmp_path):
    two_branches(gitrepo)
    bare = tmp_path / "bare.git"
    gitrepo.git("clone", "-q", "--bare", str(gitrepo.path), str(bare))
    done = run_module("revgraph", "-C", bare, "--versions", "migrations/versions", "heads", "--ref", ":", env=gitrepo.env)
    assert_no_traceback(done.stderr)
    assert done.returncode == 2 and "a bare repository has no index" in done.stderr


def test_no_cache_gives_the_same_answers_as_the_cache(gitrepo, capsys):
    from revgraph.cli import run

    two_branches(gitrepo)

    def answers(no_cache: bool) -> list:
        with api.Workspace(api.Options(cwd=gitrepo.path, no_cache=no_cache)) as ws:
            return [[e.to_json() for e in api.heads(ws, ref)] for ref in (None, "main", "other")]

    cold, warm, uncached = answers(False), answers(False), answers(True)
    assert cold == warm == uncached
    outputs = []
    for flags in ([], ["--no-cache"]):
        assert run(["-C", str(gitrepo.path), *flags, "heads", "--ref", "other", "--json"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["environments"][0]["heads"] == OTHER_HEADS


# ----------------------------------------------------------- this project
def test_heads_on_this_project_are_the_example_heads_alembic_computes(tmp_path, monkeypatch):
    from alembic.script import ScriptDirectory

    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no __pycache__ in this checkout
    script = ScriptDirectory(str(EXAMPLE_MIGRATIONS))
    expected_heads = sorted(script.get_heads())
    # The lines `alembic heads` prints (alembic/command.py heads()).
    expected_lines = sorted(
        script.get_revision(head).cmd_format(False, include_branches=True, tree_indicators=False)
        for head in expected_heads
    )
    # --no-cache: a test must not write into this checkout's .git
    command = [sys.executable, "-m", "revgraph", "-C", str(REPO_ROOT), "--no-cache", "heads"]
    text = run_module(*command[2:], cwd=tmp_path)
    as_json = run_module(*command[2:], "--json", cwd=tmp_path)
    for done in (text, as_json):
        assert done.returncode == 0, done.stderr
        assert_no_traceback(done.stderr)
    assert sorted(line for line in text.stdout.splitlines() if line.strip()) == expected_lines
    (env,) = json.loads(as_json.stdout)["environments"]
    assert (env["heads"], env["bases"]) == (expected_heads, sorted(script.get_bases()))
    assert env["revisions"] == sum(1 for _ in script.walk_revisions())


def test_heads_text_shows_the_labels_of_each_heads_line_like_alembic(
    gitrepo, capsys, monkeypatch
):
    from alembic.script import ScriptDirectory

    from revgraph.cli import run

    gitrepo.init_env()
    gitrepo.add_revision("aaaa01", None, message="a", branch_labels="reporting")
    gitrepo.add_revision("bbbb02", "aaaa01", message="b")  # inherits "reporting"
    gitrepo.add_revision("cccc03", None, message="c", branch_labels="billing")
    # One label per line: alembic joins a *set* of labels, in hash order.
    gitrepo.add_revision("dddd04", "cccc03", message="d")
    gitrepo.add_revision("eeee05", None, message="e")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    script = ScriptDirectory(str(gitrepo.path / "migrations"))
    expected = sorted(
        script.get_revision(head).cmd_format(False, include_branches=True, tree_indicators=False)
        for head in script.get_heads()
    )
    assert run(["-C", str(gitrepo.path), "heads"]) == 0
    assert sorted(capsys.readouterr().out.splitlines()) == expected
    assert "bbbb02 (reporting) (head)" in expected


# ------------------------------------------------------------ JSON contract
def test_heads_json_follows_the_contract_for_several_environments(gitrepo, heads_json):
    gitrepo.write(
        "pyproject.toml",
        "[tool.revgraph.environments]\n"
        'shop = { versions = ["shop/versions"] }\n'
        'reporting = { versions = ["reporting/versions"] }\n',
    )
    gitrepo.add_revision("zz0001", None, message="z", versions="shop/versions")
    gitrepo.add_revision("bb0002", "zz0001", message="b", versions="shop/versions")
    gitrepo.add_revision("aa0003", "zz0001", message="a", versions="shop/versions")
    gitrepo.add_revision("rr0001", None, message="r", versions="reporting/versions")
    gitrepo.add_revision("cc0002", None, message="c", versions="reporting/versions")
    gitrepo.commit("two environments")
    report = heads_json(gitrepo)
    assert report["version"] == 1
    by_name = {env["name"]: env for env in report["environments"]}
    assert set(by_name) == {"shop", "reporting"}
    for env in report["environments"]:
        assert set(env) >= {"name", "heads", "bases", "revisions"}
        assert env["heads"] == sorted(env["heads"]) and env["bases"] == sorted(env["bases"])
    assert by_name["shop"]["heads"] == ["aa0003", "bb0002"]
    assert by_name["shop"]["bases"] == ["zz0001"]
    assert by_name["shop"]["revisions"] == 3
    details = by_name["reporting"].pop("head_details")
    assert by_name["reporting"] == {
        "name": "reporting", "heads": ["cc0002", "rr0001"], "bases": ["cc0002", "rr0001"],
        "revisions": 2, "unreadable": [],
    }
    assert [(d["revision"], d["message"], d["branch_labels"]) for d in details] == [
        ("cc0002", "c", []), ("rr0001", "r", [])
    ]
    assert all(d["path"].startswith("reporting/versions/") and d["revision"] in d["path"] for d in details)


def test_heads_json_names_each_heads_labels_file_and_message_as_heads_v_does(gitrepo, heads_json):
    # Found on keystone: `heads -v` showed (expand)/(contract), files and messages;
    # --json had only the ids, so a script could not tell the lines apart.
    gitrepo.init_env()
    gitrepo.add_revision("aaaa01", None, message="a", branch_labels="reporting")
    second = gitrepo.add_revision("bbbb02", "aaaa01", message="b")  # inherits "reporting"
    gitrepo.add_revision("cccc03", None, message="c")
    gitrepo.commit("two lines")
    (env,) = heads_json(gitrepo)["environments"]
    assert env["head_details"][0] == {
        "revision": "bbbb02", "branch_labels": ["reporting"], "path": second, "message": "b"
    }
    assert [d["revision"] for d in env["head_details"]] == env["heads"] == ["bbbb02", "cccc03"]


# --------------------------------------------------------------- exit codes
def test_unknown_ref_exits_2_saying_unknown_ref_without_traceback(gitrepo):
    two_branches(gitrepo)
    done = gitrepo.run("heads", "--ref", "no-such-branch", "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "unknown ref" in done.stderr and "no-such-branch" in done.stderr
    assert_no_traceback(done.stderr)


def test_no_environment_exits_2_without_traceback(gitrepo, capsys):
    from revgraph.cli import run

    gitrepo.write("README.md", "no alembic here\n")
    gitrepo.commit("nothing")
    assert run(["-C", str(gitrepo.path), "heads", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "no Alembic environment" in err
    assert_no_traceback(err)


def test_ref_outside_git_exits_2(tmp_path, git_env, capsys):
    from revgraph.cli import run

    versions = tmp_path / "versions"
    versions.mkdir()
    assert run(["-C", str(tmp_path), "--versions", "versions", "heads", "--ref", "main"]) == 2
    err = capsys.readouterr().err
    assert "git repository" in err
    assert_no_traceback(err)


def test_heads_without_revisions_says_so(gitrepo, capsys):
    from revgraph.cli import run

    gitrepo.init_env()
    assert run(["-C", str(gitrepo.path), "heads", "--json"]) == 0
    (env,) = json.loads(capsys.readouterr().out)["environments"]
    assert env == {"name": "default", "heads": [], "bases": [], "revisions": 0, "head_details": [], "unreadable": []}
    assert run(["-C", str(gitrepo.path), "heads"]) == 0
    assert "no revisions" in capsys.readouterr().out


def test_heads_takes_format_as_the_other_commands_do(gitrepo):
    # check, graph, audit and collisions take --format/-f; `heads --format json`
    # was "No such option".
    gitrepo.init_env()
    gitrepo.add_revision("aaaa01", None, message="root")
    gitrepo.commit("root")
    as_json = gitrepo.run("heads", "--json")
    for args in (["--format", "json"], ["-f", "json"]):
        done = gitrepo.run("heads", *args)
        assert (done.returncode, done.stdout) == (0, as_json.stdout), done.stderr
    text = gitrepo.run("heads", "--format", "text")
    assert (text.returncode, text.stdout) == (0, gitrepo.run("heads").stdout)
    for args in (["--format", "xml"], ["--json", "--format", "text"]):
        done = gitrepo.run("heads", *args)
        assert done.returncode == 2 and done.stdout == "", (args, done.stdout)
        assert_no_traceback(done.stderr)


WARNING_START = "warning: versions folder migrations/versions holds no revision file, but its subfolders postgresql/, sqlite/ do"


def one_folder_per_database(repo: GitRepo) -> None:
    """Prefect's layout: versions/postgresql and versions/sqlite, one of which env.py picks."""
    repo.init_env()
    for dialect in ("postgresql", "sqlite"):
        repo.add_revision(f"{dialect[:4]}01", None, message=f"{dialect} start",
                          versions=f"migrations/versions/{dialect}")  # fmt: skip
    repo.commit("two dialects")


def test_a_versions_folder_whose_revisions_are_all_in_subfolders_is_explained(gitrepo):
    # Prefect: heads printed "(no revisions)" and check "All good", with not a word why.
    one_folder_per_database(gitrepo)
    for args in (["heads"], ["check"], ["check"], ["graph"]):  # the second check is answered from the cache
        done = gitrepo.run(*args)
        assert_no_traceback(done.stderr)
        assert done.stderr.startswith(WARNING_START), (args, done.stderr)
        assert "recursive_version_locations = true" in done.stderr
        assert "[tool.revgraph.environments]" in done.stderr
    assert gitrepo.run("heads", check=True).stdout == "(no revisions)\n"  # as alembic heads would list nothing


def test_no_subfolder_warning_when_the_folder_has_revisions_or_is_walked(gitrepo):
    one_folder_per_database(gitrepo)
    text = (gitrepo.path / "alembic.ini").read_text()
    (gitrepo.path / "alembic.ini").write_text(text.replace("[alembic]\n", "[alembic]\nrecursive_version_locations = true\n"))
    done = gitrepo.run("heads", check=True)
    assert done.stderr == "" and sorted(done.stdout.split()) == ["(head)", "(head)", "post01", "sqli01"]
    (gitrepo.path / "alembic.ini").write_text(text)
    gitrepo.add_revision("root01", None, message="top level")
    done = gitrepo.run("heads", check=True)
    assert done.stderr == "" and done.stdout.split() == ["root01", "(head)"]


def test_heads_text_lists_heads_in_the_order_alembic_heads_does(gitrepo):
    # QA against real alembic: alembic lists heads in the order it loads their
    # files (an ordered set of what it read), revgraph sorted them by id. File
    # names that sort unlike the ids (a date first, as many templates write):
    gitrepo.init_env()
    gitrepo.add_revision("a0a0a0a0a0a0", None, message="root")
    for rid, name in (("f1f1f1f1f1f1", "2024_01_feature.py"), ("b2b2b2b2b2b2", "2025_06_other.py")):
        written = gitrepo.add_revision(rid, "a0a0a0a0a0a0", message=name)
        (gitrepo.path / written).rename(gitrepo.path / "migrations/versions" / name)
    gitrepo.commit("two heads")

    alembic = [line.split()[0] for line in gitrepo.alembic("heads").stdout.splitlines() if line.strip()]
    ours = [line.split()[0] for line in gitrepo.run("heads", check=True).stdout.splitlines()]
    assert ours == alembic == ["f1f1f1f1f1f1", "b2b2b2b2b2b2"]
    committed = [line.split()[0] for line in gitrepo.run("heads", "--ref", "HEAD", check=True).stdout.splitlines()]
    assert committed == alembic  # read from git: the same order


# ------------------------------------------------- histories alembic cannot load
# heads stays informational (exit 0, stdout as it was: scripts parse it), but a
# history alembic itself refuses to load (CycleDetected, KeyError, RevisionError)
# is said on stderr, one line per problem, naming check's rule.
LOAD_WARNING = "warning: alembic cannot load this history: "


def broken(repo: GitRepo, kind: str) -> None:
    repo.init_env()
    repo.add_revision("r0", None, message="r0")
    repo.add_revision("r1", "r0", message="r1")
    repo.add_revision("r2", "r1", message="r2")
    if kind == "cycle":
        repo.add_revision("r4", "r5", message="r4")
        repo.add_revision("r5", "r4", message="r5")
    elif kind == "missing parent":
        repo.add_revision("r6", "nosuch", message="r6")
    elif kind == "missing depends_on":
        repo.add_revision("r6", "r2", message="r6", depends_on="nosuch")
    elif kind == "label is an id":
        repo.add_revision("r6", "r2", message="r6", branch_labels="r1")
    elif kind == "label twice":
        repo.add_revision("r6", "r0", message="r6", branch_labels="shop")
        repo.add_revision("r7", "r1", message="r7", branch_labels="shop")
    repo.commit(kind)


@pytest.mark.parametrize(
    "kind, warning",
    [
        ("cycle", "cycle in down_revision (r4, r5) — revgraph check explains (RG105)"),
        ("missing parent", "r6's down_revision names 'nosuch', which does not exist — revgraph check explains (RG104)"),
        ("missing depends_on", "r6's depends_on names 'nosuch', which does not exist — revgraph check explains (RG104)"),
        ("label is an id", "branch label 'r1' of r6 is a revision id — revgraph check explains (RG106)"),
        ("label twice", "branch label 'shop' is declared twice (r6, r7) — revgraph check explains (RG106)"),
    ],
)
def test_heads_warns_when_alembic_cannot_load_the_history(gitrepo, kind, warning):
    broken(gitrepo, kind)
    assert gitrepo.alembic("heads", check=None).returncode != 0  # alembic really refuses it
    for args in (["heads"], ["heads", "--json"], ["heads", "--ref", "HEAD"]):
        done = gitrepo.run(*args)
        assert_no_traceback(done.stderr)
        assert done.returncode == 0, (args, done.stderr)
        assert done.stderr == LOAD_WARNING + warning + "\n", (args, done.stderr)
    # stdout is what it was: the heads revgraph finds, nothing else
    heads = gitrepo.run("heads").stdout
    assert "(head)" in heads and "warning" not in heads and "RG10" not in heads
    json_out = json.loads(gitrepo.run("heads", "--json").stdout)
    assert set(json_out["environments"][0]) == {"name", "heads", "bases", "revisions", "head_details", "unreadable"}
    # check says the same rule fails
    check = gitrepo.run("check", "--format", "json")
    assert warning[-6:-1] in {f["code"] for f in json.loads(check.stdout)["findings"]}


def test_heads_warns_once_per_problem_even_with_q(gitrepo):
    gitrepo.init_env()
    gitrepo.add_revision("r0", None, message="r0")
    gitrepo.add_revision("r6", "nosuch", message="r6")
    gitrepo.add_revision("r7", "gone", message="r7", depends_on="r0")
    gitrepo.add_revision("r8", "r9", message="r8")
    gitrepo.add_revision("r9", "r8", message="r9")
    gitrepo.commit("three problems")
    done = gitrepo.run("heads", check=True)
    assert done.stderr.splitlines() == [
        LOAD_WARNING + "r6's down_revision names 'nosuch', which does not exist — revgraph check explains (RG104)",
        LOAD_WARNING + "r7's down_revision names 'gone', which does not exist — revgraph check explains (RG104)",
        LOAD_WARNING + "cycle in down_revision (r8, r9) — revgraph check explains (RG105)",
    ]
    # -q prints what matters: like an unreadable file's warning, this stays
    assert gitrepo.run("-q", "heads", check=True).stderr == done.stderr


def test_heads_does_not_blame_alembic_for_a_parent_in_an_unreadable_file(gitrepo):
    # r1's file cannot be read statically (RG107, warned as ever), so r2 dangles
    # for revgraph; alembic imports the file and loads the history fine.
    gitrepo.init_env()
    gitrepo.add_revision("r0", None, message="r0")
    path = gitrepo.add_revision("r1", "r0", message="r1", branch_labels="shop")
    text = (gitrepo.path / path).read_text()
    assert "= ('shop',)" in text
    (gitrepo.path / path).write_text(text.replace("= ('shop',)", "= (LABEL,)").replace("\nrevision", "\nLABEL = 'shop'\nrevision", 1))
    gitrepo.add_revision("r2", "r1", message="r2")
    gitrepo.commit("r1 unreadable")
    assert gitrepo.alembic("heads").stdout.split() == ["r2", "(shop)", "(head)"]
    done = gitrepo.run("heads", check=True)
    assert path.rpartition("/")[2] in done.stderr, done.stderr  # the unreadable file, warned as ever
    assert "alembic cannot load" not in done.stderr, done.stderr


def test_a_healthy_history_gets_no_load_warning(gitrepo):
    broken(gitrepo, "none")
    done = gitrepo.run("heads", check=True)
    assert (done.stdout, done.stderr) == ("r2 (head)\n", "")


def test_heads_json_names_the_files_it_could_not_read(gitrepo, heads_json):
    # QA: with `sourceless = true` and only .pyc files, `alembic heads` lists two heads;
    # `heads --json` said "heads": [] with nothing to tell a script the answer is partial.
    import py_compile

    gitrepo.init_env(commit=False)
    ini = gitrepo.read("alembic.ini")
    gitrepo.write("alembic.ini", ini.replace(b"[alembic]\n", b"[alembic]\nsourceless = true\n", 1))
    gitrepo.add_revision("aa0001", None, message="base")
    second = gitrepo.add_revision("bb0002", "aa0001", message="second")
    py_compile.compile(str(gitrepo.path / second), cfile=str(gitrepo.path / second) + "c", doraise=True)
    (gitrepo.path / second).unlink()
    gitrepo.commit("a compiled-only revision")

    (env,) = heads_json(gitrepo)["environments"]

    assert env["heads"] == ["aa0001"]  # what can be read: bb0002 is missing from it
    assert [(u["path"], u["line"]) for u in env["unreadable"]] == [(f"{second}c", 1)]
    assert "compiled-only" in env["unreadable"][0]["reason"]
