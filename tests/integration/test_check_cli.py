"""`revgraph check`, `doctor`, `diff` and `rules` on real temporary git repositories.

The headline case (PRODUCT §2 `check`): two branches each add a revision on
the same parent; each alone is healthy, and before any merge `check` on
*either* branch reports RG102 naming both new revisions. Around it: every
report format (SARIF against the 2.1.0 schema, JUnit as XML, GitHub workflow
commands, markdown with Mermaid, the job summary), missing bases (unknown ref,
shallow CI clone), no git, no revisions, select/ignore/strict, suppression
comments, doctor, diff and rules. Exit codes are 0/1/2 and a traceback never
reaches the user.

Most runs are in-process (``revgraph.cli.run``); the headline case and the
shallow clone run the real command in a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from revgraph import api
from tests.support import REPO_ROOT
from tests.support.gitrepo import GitRepo
from tests.support.gitrepo import run_module

ROOT, MAIN_NEW, FEATURE_NEW = "root01", "main0a", "feat0b"
USERS = 'op.create_table("users", sa.Column("id", sa.Integer()))'
USERS_EMAIL = 'op.add_column("users", sa.Column("email", sa.String()))'
USERS_NAME = 'op.add_column("users", sa.Column("name", sa.String()))'
ORDERS = 'op.create_table("orders", sa.Column("id", sa.Integer()))'
SARIF_SCHEMA = REPO_ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"


# ------------------------------------------------------------------ running
@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)

    def codes(self) -> list[str]:
        return sorted(f["code"] for f in self.json()["findings"])

    def finding(self, code: str) -> dict:
        (hit,) = [f for f in self.json()["findings"] if f["code"] == code]
        return hit


@pytest.fixture
def revgraph(capsys) -> Callable[..., Run]:
    """``revgraph(repo_or_dir, *args)``: the CLI in-process, as ``revgraph -C DIR ARGS``."""
    from revgraph.cli import run

    def invoke(where: GitRepo | Path, *args: str) -> Run:
        path = where.path if isinstance(where, GitRepo) else where
        capsys.readouterr()
        code = run(["-C", str(path), *args])
        out, err = capsys.readouterr()
        assert_no_traceback(err)
        return Run(code, out, err)

    return invoke


def assert_no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "internal error" not in stderr, stderr


def subprocess_run(repo: GitRepo, *args: str, env: dict | None = None) -> Run:
    """The real installed command (``python -m revgraph -C repo ARGS``)."""
    done = repo.run(*args, env=env)
    assert_no_traceback(done.stderr)
    return Run(done.returncode, done.stdout, done.stderr)


# ------------------------------------------------------------------ history
def classic_fork(repo: GitRepo, *, feature_body: str = ORDERS) -> None:
    """main and feature each add one revision on root01 after feature branched.

    Checked out: feature. ``feature_body`` touching ``users`` adds an RG301
    warning (main's revision touches ``users`` too).
    """
    repo.init_env()
    repo.add_revision(ROOT, None, message="create users", body=USERS)
    repo.commit("root")
    repo.branch("feature")
    repo.add_revision(MAIN_NEW, ROOT, message="add users email", body=USERS_EMAIL)
    repo.commit("main adds a revision")
    repo.checkout("feature")
    repo.add_revision(FEATURE_NEW, ROOT, message="feature revision", body=feature_body)
    repo.commit("feature adds a revision")


def only_a_warning(repo: GitRepo) -> None:
    """feature edits a landed revision's body: RG203, a warning, and nothing else."""
    repo.init_env()
    path = repo.add_revision(ROOT, None, message="create users", body=USERS)
    repo.commit("root")
    repo.git("checkout", "-q", "-b", "feature")
    text = repo.read(path).decode()
    repo.write(path, text.replace('"id"', '"uid"'))
    repo.commit("edit landed revision")


def heads_of(repo: GitRepo, ref: str | None = None) -> list[str]:
    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        (env_heads,) = api.heads(ws, ref)
        return list(env_heads.graph.heads)


def findings_against(repo: GitRepo, base: str) -> tuple:
    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        return api.check(ws, base=base).findings


# --------------------------------------------------------- the classic case
def test_classic_fork_is_rg102_from_either_branch_before_any_merge(gitrepo):
    classic_fork(gitrepo)
    fork_point = gitrepo.git("merge-base", "main", "feature").stdout.strip()
    # Each branch alone is healthy: one head, and clean against where they forked.
    assert heads_of(gitrepo, "main") == [MAIN_NEW]
    assert heads_of(gitrepo, "feature") == [FEATURE_NEW]
    assert findings_against(gitrepo, fork_point) == ()

    from_feature = subprocess_run(gitrepo, "check", "--base", "main", "--format", "json")
    gitrepo.checkout("main")
    assert findings_against(gitrepo, fork_point) == ()
    from_main = subprocess_run(gitrepo, "check", "--base", "feature", "--format", "json")

    for run in (from_feature, from_main):
        assert run.code == 1
        assert run.codes() == ["RG102"]
        hit = run.finding("RG102")
        assert set(hit["revisions"]) == {MAIN_NEW, FEATURE_NEW}
        assert ROOT in hit["message"]  # the shared parent is named
    assert gitrepo.git("rev-list", "--merges", "--all").stdout == ""  # nothing was merged
    assert gitrepo.status() == ""


def test_an_uncommitted_new_revision_counts_as_head(gitrepo, revgraph):
    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="create users", body=USERS)
    gitrepo.commit("root")
    gitrepo.branch("feature")
    gitrepo.add_revision(MAIN_NEW, ROOT, message="add users email")
    gitrepo.commit("main adds a revision")
    gitrepo.checkout("feature")
    assert revgraph(gitrepo, "check", "--base", "main", "--format", "json").code == 0

    gitrepo.add_revision(FEATURE_NEW, ROOT, message="not committed yet")
    status, index = gitrepo.status(), gitrepo.read(".git/index")
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert run.code == 1
    assert set(run.finding("RG102")["revisions"]) == {MAIN_NEW, FEATURE_NEW}
    assert (gitrepo.status(), gitrepo.read(".git/index")) == (status, index)


def test_staged_and_unstaged_edits_count_as_head_too(gitrepo, revgraph):
    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="create users")
    landed = gitrepo.add_revision(MAIN_NEW, ROOT, message="add users email")
    gitrepo.commit("landed")
    gitrepo.git("checkout", "-q", "-b", "feature")
    staged = gitrepo.add_revision(FEATURE_NEW, MAIN_NEW, message="staged only")
    gitrepo.git("add", staged)
    assert revgraph(gitrepo, "check", "--base", "main", "--format", "json").code == 0
    # An unstaged edit re-points the landed revision: RG201 before anything is committed.
    text = gitrepo.read(landed).decode()
    gitrepo.write(landed, text.replace(f"= {ROOT!r}", "= None"))
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert run.code == 1
    assert run.finding("RG201")["revisions"] == [MAIN_NEW]
    heads = revgraph(gitrepo, "heads", "--json").json()["environments"][0]
    assert (heads["heads"], heads["bases"]) == ([FEATURE_NEW, ROOT], [MAIN_NEW, ROOT])


# ------------------------------------------------------------------ formats
def test_sarif_of_a_real_run_validates_against_the_2_1_0_schema(gitrepo, revgraph, tmp_path):
    import jsonschema

    classic_fork(gitrepo, feature_body=USERS_NAME)
    out = tmp_path / "report.sarif"
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "sarif", "-o", str(out))
    assert run.code == 1
    sarif = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    as_json = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert sorted(r["ruleId"] for r in results) == as_json.codes() == ["RG102", "RG301"]


def test_sarif_of_a_clean_run_validates_too(gitrepo, revgraph):
    import jsonschema

    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="create users")
    gitrepo.commit("root")
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "sarif")
    assert run.code == 0
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(json.loads(run.out))


def test_junit_output_parses_as_xml_with_the_failing_rule_failed(gitrepo, revgraph):
    classic_fork(gitrepo)
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "junit")
    assert run.code == 1
    root = ET.fromstring(run.out.encode("utf-8"))
    cases = {case.get("name"): case for case in root.iter("testcase")}
    failed = sorted(name for name, case in cases.items() if case.find("failure") is not None)
    assert len(failed) == 1 and "RG102" in failed[0]
    assert any("RG101" in name for name in cases)  # every rule is a test case


# ``::command key=value,key=value::message``; values escape , and :, data escapes CR/LF/%.
WORKFLOW_COMMAND = re.compile(
    r"^::(error|warning|notice)"
    r"( (file=[^,:\r\n]+,line=[1-9][0-9]*,)?title=RG[0-9]{3})?"
    r"::[^\r\n]*$"
)


def test_github_format_is_only_workflow_commands(gitrepo, revgraph):
    classic_fork(gitrepo, feature_body=USERS_NAME)
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "github")
    assert run.code == 1
    lines = run.out.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["::error", "::warning"]
    for line in lines:
        assert WORKFLOW_COMMAND.match(line), line
        message = line.split("::", 2)[2]
        assert re.fullmatch(r"([^%]|%25|%0D|%0A)*", message), line


def test_markdown_has_a_summary_table_and_a_mermaid_block(gitrepo, revgraph):
    classic_fork(gitrepo)
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "markdown")
    assert run.code == 1
    assert "| RG102 |" in run.out
    block = re.search(r"^```mermaid\n(.*?)^```$", run.out, re.S | re.M)
    assert block, run.out
    assert "flowchart" in block.group(1)
    assert MAIN_NEW in block.group(1) and FEATURE_NEW in block.group(1)


def test_github_format_appends_the_job_summary_when_asked(gitrepo, revgraph, tmp_path, monkeypatch):
    classic_fork(gitrepo)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "github")
    assert run.code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")
    assert "RG102" in text and "```mermaid" in text
    assert "```mermaid" not in run.out  # the summary goes to the file, not to stdout


def test_github_format_says_on_the_pull_request_why_the_check_could_not_run(gitrepo, tmp_path):
    # QA in a CI-like clone: exit 2 (a base the clone lacks) left only a red job; the
    # fetch hint was on stderr, in a log nobody opens from the pull request.
    classic_fork(gitrepo)
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    run = subprocess_run(gitrepo, "check", "--format", "github", "--base", "origin/nope", env=env)
    assert run.code == 2, run
    [line] = run.out.splitlines()
    assert line.startswith("::error title=revgraph could not run::") and "origin/nope" in line
    assert "%0Ahint: " in line and "\n" not in line.partition("::")[2]
    assert "revgraph: error:" in run.err  # the log keeps its line
    assert "### revgraph could not run" in summary.read_text(encoding="utf-8")
    # Other formats keep stdout for their own document.
    assert subprocess_run(gitrepo, "check", "--format", "json", "--base", "origin/nope").out == ""


def test_a_step_summary_that_cannot_be_written_is_a_warning_and_the_exit_code_stays(gitrepo, tmp_path):
    classic_fork(gitrepo)
    for summary, reason in ((tmp_path / "missing" / "summary.md", "No such file or directory"),
                            (tmp_path, "Is a directory")):  # fmt: skip
        env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
        for args, code in ((["--base", "main"], 1), (["--base", "main", "--select", "RG101"], 0)):
            run = subprocess_run(gitrepo, "check", "--format", "github", *args, env=env)
            assert run.code == code, run.err  # the findings' code, not "could not run"
            assert run.err.splitlines() == [
                f"warning: cannot write the step summary to {summary} ($GITHUB_STEP_SUMMARY): {reason}"
            ]
            assert all(line.startswith("::") for line in run.out.splitlines())
    assert not (tmp_path / "missing").exists()


def _from(cwd: Path, *args: str) -> Run:
    """``python -m revgraph ARGS`` started in ``cwd``."""
    done = run_module("revgraph", *args, cwd=cwd)
    assert_no_traceback(done.stderr)
    return Run(done.returncode, done.stdout, done.stderr)


def test_a_second_C_is_relative_to_the_first_as_in_git(gitrepo, tmp_path):
    classic_fork(gitrepo)
    assert gitrepo.path == tmp_path / "repo"
    run = _from(tmp_path.parent, "-C", tmp_path.name, "check", "-C", "repo", "--base", "main", "-f", "json", "-o", "r.json")
    assert run.code == 1 and (gitrepo.path / "r.json").is_file(), run.err
    # An absolute -C starts afresh, as git's does.
    run = _from(tmp_path, "-C", "no/such/folder", "-C", str(gitrepo.path), "heads")
    assert run.code == 0 and FEATURE_NEW in run.out, run.err


@pytest.mark.parametrize("directory", ["repo", "ABSOLUTE"])
def test_output_files_go_to_the_C_folder_as_if_started_there(gitrepo, tmp_path, directory):
    classic_fork(gitrepo)
    assert gitrepo.path == tmp_path / "repo"
    where = str(gitrepo.path) if directory == "ABSOLUTE" else directory
    cwd = tmp_path if directory == "repo" else tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)

    run = _from(cwd, "-C", where, "check", "--base", "main", "--format", "json", "-o", "report.json")
    assert not (cwd / "report.json").exists()
    report = json.loads((gitrepo.path / "report.json").read_text(encoding="utf-8"))
    assert [f["code"] for f in report["findings"]] == ["RG102"]
    assert (run.code, run.out) == (1, "")  # stdout stays clean for a machine format
    assert run.err == "wrote report.json\n"  # as given: relative to the -C folder, as graph -o says

    run = _from(cwd, "-C", where, "graph", "--base", "main", "--format", "mermaid", "-o", "graph.mmd")
    assert not (cwd / "graph.mmd").exists()
    assert "flowchart" in (gitrepo.path / "graph.mmd").read_text(encoding="utf-8")
    assert (run.code, run.out, run.err) == (0, "", "wrote graph.mmd\n"), run.err

    assert _from(cwd, "-C", where, "-q", "check", "--base", "main", "-f", "json", "-o", "q.json").err == ""
    assert (gitrepo.path / "q.json").is_file()


def test_json_findings_carry_every_contract_field(gitrepo, revgraph):
    classic_fork(gitrepo)
    report = revgraph(gitrepo, "check", "--base", "main", "--format", "json").json()
    assert report["version"] == 1 and report["ok"] is False and report["base"] == "main"
    (finding,) = report["findings"]
    contract = {"code", "severity", "message", "environment", "revisions", "locations", "fix"}
    assert set(finding) >= contract
    assert finding["environment"] == "default"
    assert finding["fix"] == "git merge main; revgraph fix"
    assert {loc["path"] for loc in finding["locations"]} <= set(gitrepo.ls_files("main")) | set(
        gitrepo.ls_files("feature")
    )


# ------------------------------------------------------------- missing base
def test_an_unknown_base_exits_2_and_names_the_fetch(gitrepo, revgraph):
    classic_fork(gitrepo)
    gitrepo.git("remote", "add", "origin", str(gitrepo.path))
    run = revgraph(gitrepo, "check", "--base", "origin/nope", "--format", "json")
    assert run.code == 2
    assert run.out == ""
    assert "origin/nope" in run.err
    assert "git fetch origin nope:refs/remotes/origin/nope" in run.err


def test_without_a_remote_an_unknown_base_names_the_branches_that_are_here(gitrepo, revgraph):
    # A repository made here has no origin: `git fetch origin` would only fail.
    classic_fork(gitrepo)
    run = revgraph(gitrepo, "check", "--base", "develop")
    assert run.code == 2 and "git fetch" not in run.err and "did you fetch" not in run.err
    assert "the branches here are: feature, main" in run.err

    gitrepo.git("branch", "-m", "main", "trunk")  # and no default base name left
    run = revgraph(gitrepo, "check")
    assert run.code == 2 and "no base branch found" in run.err and "git fetch" not in run.err
    assert "pass --base REF or set [tool.revgraph] base" in run.err and "feature, trunk" in run.err


def test_a_tree_id_reads_as_a_snapshot_like_the_commit_that_would_hold_it(gitrepo, revgraph):
    # PRODUCT: a snapshot may be "the tree `git merge-tree --write-tree` produces".
    classic_fork(gitrepo)
    tree = gitrepo.git("merge-tree", "--write-tree", "main", "feature").stdout.split()[0]
    by_tree = revgraph(gitrepo, "heads", "--ref", tree, "--json")
    assert by_tree.code == 0
    gitrepo.checkout("main")
    gitrepo.merge("feature")
    assert gitrepo.git("rev-parse", "HEAD^{tree}").stdout.strip() == tree  # the merge holds that very tree
    by_commit = revgraph(gitrepo, "heads", "--ref", "HEAD", "--json")
    heads = by_tree.json()["environments"][0]["heads"]
    assert heads == by_commit.json()["environments"][0]["heads"] and len(heads) == 2
    assert revgraph(gitrepo, "heads", "--ref", "HEAD^{tree}", "--json").out == by_commit.out
    diff = revgraph(gitrepo, "diff", "main~1", tree)
    assert diff.code == 0 and FEATURE_NEW in diff.out and "added" in diff.out


def test_an_unknown_object_id_or_expression_gets_no_branch_fetch_hint(gitrepo, revgraph):
    classic_fork(gitrepo)
    run = revgraph(gitrepo, "heads", "--ref", "0123456789abcdef0123456789abcdef01234567")
    assert run.code == 2 and "fetch a branch that holds it" in run.err and "refs/remotes" not in run.err
    run = revgraph(gitrepo, "heads", "--ref", "main:no/such/folder")
    assert run.code == 2 and "unknown ref" in run.err and "fetch" not in run.err.split("?", 1)[1]


def shallow_ci_clone(origin: GitRepo, dest: Path) -> GitRepo:
    """What CI checks out: the feature branch alone, one commit deep."""
    origin.git("clone", "-q", "--depth", "1", "--branch", "feature",
               f"file://{origin.path}", str(dest))
    return GitRepo(dest, origin.env)


def fetch_command(stderr: str) -> list[str]:
    match = re.search(r"run: (git fetch [^\n(]+)", stderr)
    assert match, stderr
    return shlex.split(match.group(1))


def test_shallow_ci_clone_without_the_base_exits_2_and_the_named_fetch_fixes_it(
    gitrepo, tmp_path
):
    classic_fork(gitrepo)
    clone = shallow_ci_clone(gitrepo, tmp_path / "ci")
    ci_env = {**os.environ, "GITHUB_BASE_REF": "main"}
    run = subprocess_run(clone, "check", "--format", "json", env=ci_env)
    assert run.code == 2
    assert run.out == ""
    assert "origin/main" in run.err and "GITHUB_BASE_REF" in run.err

    clone.git(*fetch_command(run.err)[1:])  # exactly what the message said
    after = subprocess_run(clone, "check", "--format", "json", env=ci_env)
    assert after.code == 1
    assert after.codes() == ["RG102"]
    assert set(after.finding("RG102")["revisions"]) == {MAIN_NEW, FEATURE_NEW}


def test_a_single_branch_clone_with_no_base_names_the_fetch_that_brings_one(gitrepo, tmp_path):
    # QA: the hint said `git fetch origin`, which in a single-branch clone
    # fetches the same branch again: the same error, forever.
    classic_fork(gitrepo)
    gitrepo.checkout("main")  # the remote's default branch, as on a server
    clone = shallow_ci_clone(gitrepo, tmp_path / "ci")
    run = subprocess_run(clone, "check")
    assert run.code == 2 and "no base branch found" in run.err
    match = re.search(r"fetch the base branch: (git fetch [^\n(]+)", run.err)
    assert match, run.err

    clone.git(*shlex.split(match.group(1))[1:])
    after = subprocess_run(clone, "check", "--format", "json")
    assert (after.code, after.codes()) == (1, ["RG102"])


def test_a_ci_clone_with_every_branch_but_no_origin_head_finds_origin_main(gitrepo, tmp_path):
    # GitHub's checkout with fetch-depth 0 on a push: remote branches, no
    # origin/HEAD, no local main, and GITHUB_BASE_REF set but empty.
    classic_fork(gitrepo)
    gitrepo.git("clone", "-q", "--branch", "feature", f"file://{gitrepo.path}", str(tmp_path / "ci"))
    clone = GitRepo(tmp_path / "ci", gitrepo.env)
    clone.git("remote", "set-head", "origin", "--delete")
    assert "main" not in clone.git("branch", "--list").stdout
    run = subprocess_run(clone, "check", "--format", "json", env={**os.environ, "GITHUB_BASE_REF": ""})
    assert run.code == 1 and run.json()["base"] == "origin/main"
    assert run.codes() == ["RG102"]


def test_a_base_that_is_only_a_remote_tracking_branch_is_named_not_fetched(gitrepo, tmp_path):
    # CI clones have origin/main but no main: the fetch the old hint named
    # would copy what is already there; the remote-tracking name is the answer.
    classic_fork(gitrepo)
    gitrepo.git("clone", "-q", "--branch", "feature", f"file://{gitrepo.path}", str(tmp_path / "ci"))
    clone = GitRepo(tmp_path / "ci", gitrepo.env)
    run = subprocess_run(clone, "check", "--base", "main", "--format", "json")
    assert run.code == 2 and run.out == ""
    assert "pass --base origin/main" in run.err and "git fetch" not in run.err
    after = subprocess_run(clone, "check", "--base", "origin/main", "--format", "json")
    assert after.code == 1 and after.codes() == ["RG102"]
    # A name no remote has keeps the fetch hint.
    run = subprocess_run(clone, "check", "--base", "nope")
    assert run.code == 2 and "git fetch origin nope:" in run.err


def test_shallow_clone_that_cannot_reach_the_merge_base_exits_2_instead_of_guessing(
    gitrepo, tmp_path, revgraph
):
    # Without the merge base, every revision main added would look deleted (RG202).
    classic_fork(gitrepo)
    clone = shallow_ci_clone(gitrepo, tmp_path / "ci")
    clone.git("fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    run = revgraph(clone, "check", "--base", "origin/main", "--format", "json")
    assert run.code == 2
    assert "merge base" in run.err
    clone.git(*fetch_command(run.err)[1:])
    after = revgraph(clone, "check", "--base", "origin/main", "--format", "json")
    assert (after.code, after.codes()) == (1, ["RG102"])


# ----------------------------------------------------------- odd situations
def plain_project(folder: Path, heads: int) -> Path:
    """alembic.ini + migrations/versions outside any git repository."""
    from tests.support.gitrepo import _MINIMAL_INI
    from tests.support.revfiles import render_revision

    versions = folder / "migrations" / "versions"
    versions.mkdir(parents=True)
    (folder / "alembic.ini").write_text(_MINIMAL_INI, encoding="utf-8")
    (versions / f"{ROOT}_root.py").write_text(render_revision(ROOT, None, message="root"))
    for n in range(heads):
        rid = f"head{n:02d}"
        (versions / f"{rid}_step.py").write_text(render_revision(rid, ROOT, message="step"))
    return folder


def test_outside_git_check_reads_the_files_and_base_needs_git(tmp_path, git_env, revgraph):
    healthy = plain_project(tmp_path / "healthy", heads=1)
    forked = plain_project(tmp_path / "forked", heads=2)
    assert revgraph(healthy, "check", "--format", "json").code == 0
    run = revgraph(forked, "check", "--format", "json")
    assert (run.code, run.codes()) == (1, ["RG101"])
    with_base = revgraph(healthy, "check", "--base", "main")
    assert with_base.code == 2
    assert "git repository" in with_base.err and with_base.out == ""


def test_outside_git_fix_on_a_healthy_graph_says_only_nothing_to_fix(tmp_path, git_env, revgraph):
    # Outside git every revision is new, so the root is "a new base the rebase
    # leaves alone": true, and noise when nothing is wrong. -v still says it.
    healthy = plain_project(tmp_path / "healthy", heads=1)
    run = revgraph(healthy, "fix")
    assert (run.code, run.out) == (0, "nothing to fix: the graph already has one head per line\n")
    assert "a new base" in revgraph(healthy, "-v", "fix").out


def test_an_environment_without_revisions_checks_clean(gitrepo, revgraph):
    gitrepo.init_env()
    gitrepo.git("checkout", "-q", "-b", "feature")
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert (run.code, run.json()["findings"]) == (0, [])
    text = revgraph(gitrepo, "check", "--base", "main")
    assert text.code == 0 and re.search(r"no problems|all good", text.out, re.I)
    assert "no revisions" in revgraph(gitrepo, "heads").out


# ------------------------------------------------- select, ignore, strict
def test_select_and_ignore_choose_the_rules_ruff_style(gitrepo, revgraph):
    classic_fork(gitrepo, feature_body=USERS_NAME)

    def check(*options: str) -> tuple[int, list[str]]:
        run = revgraph(gitrepo, "check", "--base", "main", "--format", "json", *options)
        return run.code, run.codes()

    assert check() == (1, ["RG102", "RG301"])
    assert check("--select", "RG1") == (1, ["RG102"])
    assert check("--select", "RG301") == (0, ["RG301"])
    assert check("--ignore", "RG102") == (0, ["RG301"])
    assert check("--ignore", "RG1,RG3") == (0, [])
    assert check("--select", "RG", "--ignore", "RG102") == (0, ["RG301"])


def test_a_select_naming_no_rule_is_refused_not_answered_all_good(gitrepo):
    # Review: `select = []` (or `--select ""`) switched every rule off, and a
    # history with two heads was "All good", warm cache or cold.
    classic_fork(gitrepo, feature_body=USERS_NAME)
    assert gitrepo.run("check", "--base", "main").returncode == 1  # and now cached
    for empty in ("", ", "):
        done = gitrepo.run("check", "--base", "main", "--select", empty, check=2)
        assert done.stderr == "revgraph: error: --select names no rule; leave it out to run every rule\n"
    gitrepo.write("pyproject.toml", "[tool.revgraph]\nselect = []\n")
    done = gitrepo.run("check", "--base", "main", check=2)
    assert "select = [] selects no rule; leave select out to run every rule" in done.stderr


def test_an_ignore_that_leaves_no_rule_is_refused_not_answered_all_good(gitrepo):
    gitrepo.init_env()
    gitrepo.add_revision("root01", None, message="create users")
    gitrepo.commit("root")
    refused = "revgraph: error: --ignore leaves no rule to run\n  hint: ignore only the rules you mean to skip; "
    for ignore in ("ALL", "ALL", "rg"):  # twice: a second run never comes warm from a cache
        done = gitrepo.run("check", "--ignore", ignore, check=2)
        assert done.stderr.startswith(refused), done.stderr
    done = gitrepo.run("check", "--select", "RG101", "--ignore", "RG1", check=0)  # the more specific wins
    assert "All good" in done.stdout


def test_pyproject_ignore_silences_a_rule(gitrepo, revgraph):
    classic_fork(gitrepo, feature_body=USERS_NAME)
    gitrepo.write("pyproject.toml", '[tool.revgraph]\nignore = ["RG301"]\n')
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert (run.code, run.codes()) == (1, ["RG102"])


def test_in_a_pull_request_s_merge_checkout_rg101_says_how_the_branch_gets_there(gitrepo, revgraph):
    # GitHub checks out base with the pull request merged in: the race is RG101
    # there. Its fix line, run on the developer's branch, refused until base was
    # merged; the message now says so, and the two steps work.
    import shlex

    classic_fork(gitrepo)
    gitrepo.git("checkout", "-q", "--detach", "main")
    gitrepo.git("merge", "-q", "--no-edit", "feature")  # what refs/pull/N/merge holds
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    [race] = run.json()["findings"]
    assert race["code"] == "RG101"
    assert f"{MAIN_NEW} came from main: on a branch without it, run `git merge main` first" in race["message"]

    gitrepo.checkout("feature")  # the developer's branch
    assert revgraph(gitrepo, *shlex.split(race["fix"])[1:]).code != 0  # the line alone: refused
    gitrepo.merge("main")
    assert revgraph(gitrepo, *shlex.split(race["fix"])[1:]).code == 0
    gitrepo.commit("fix")
    assert revgraph(gitrepo, "check", "--base", "main").code == 0


def test_while_base_is_being_merged_rg101_does_not_say_to_merge_base_first(gitrepo, revgraph):
    # QA: mid-merge (the lock file stopped it), the note told the user to run
    # `git merge main`, the very merge in progress; RG401 says `revgraph fix`.
    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="create users", body=USERS)
    gitrepo.run("install", check=True)
    gitrepo.commit("root")
    gitrepo.branch("feature")
    gitrepo.add_revision(MAIN_NEW, ROOT, message="add users email", body=USERS_EMAIL)
    gitrepo.run("lock", check=True)
    gitrepo.commit("main adds a revision")
    gitrepo.checkout("feature")
    gitrepo.add_revision(FEATURE_NEW, ROOT, message="feature revision", body=ORDERS)
    gitrepo.run("lock", check=True)
    gitrepo.commit("feature adds a revision")
    gitrepo.merge("main", expect_conflict=True)

    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    found = {f["code"]: f for f in run.json()["findings"]}
    assert sorted(found) == ["RG101", "RG401"]
    assert "came from main" not in found["RG101"]["message"]
    assert "during a merge or rebase run `revgraph fix`" in found["RG401"]["message"]
    # Both fix lines are the rebase (`revgraph lock` would record both heads), and it works.
    assert found["RG401"]["fix"] == found["RG101"]["fix"] == "revgraph fix --base main"
    assert revgraph(gitrepo, "fix", "--base", "main").code == 0
    gitrepo.git("commit", "-q", "--no-edit")
    assert revgraph(gitrepo, "check", "--base", "main").code == 0


def test_ignore_comment_in_a_revision_file_silences_that_rule_only(gitrepo, revgraph):
    classic_fork(gitrepo, feature_body=f"{USERS_NAME}  # revgraph: ignore[RG301]")
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert (run.code, run.codes()) == (1, ["RG102"])


@pytest.mark.parametrize("selector", ["RG3", "rg30"])
def test_ignore_comment_takes_a_rule_prefix_as_ignore_does(gitrepo, revgraph, selector):
    classic_fork(gitrepo, feature_body=f"{USERS_NAME}  # revgraph: ignore[{selector}]")
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert (run.code, run.codes()) == (1, ["RG102"])


def test_an_ignore_comment_with_a_typo_is_reported_and_silences_nothing(gitrepo, revgraph):
    classic_fork(gitrepo, feature_body=f"{USERS_NAME}  # revgraph: ignore[RG31, rg30, R]")
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert (run.code, run.codes()) == (1, ["RG102", "RG404"])  # RG301 is silenced by rg30 alone
    [typo] = [f for f in run.json()["findings"] if f["code"] == "RG404"]
    assert typo["revisions"] == [FEATURE_NEW]
    assert "names no rule: R, RG31" in typo["message"]
    # It points at the comment (annotations land on that line), not at `revision =`.
    [path] = [loc["path"] for loc in typo["locations"]]
    [line] = [n for n, text in enumerate(gitrepo.read(path).decode().splitlines(), 1) if "ignore[RG31" in text]
    assert typo["locations"] == [{"path": path, "line": line}]
    assert f"{path}:{line}" in typo["message"]


def test_an_ignore_comment_with_empty_brackets_is_reported_and_silences_nothing(gitrepo, revgraph):
    classic_fork(gitrepo, feature_body=f"{USERS_NAME}  # revgraph: ignore[]")
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert (run.code, run.codes()) == (1, ["RG102", "RG301", "RG404"])
    [empty] = [f for f in run.json()["findings"] if f["code"] == "RG404"]
    assert "names no rule: empty brackets" in empty["message"]


def test_one_sides_ignore_comment_cannot_silence_a_fork(gitrepo, revgraph):
    # RG102 is about both chains: one author cannot wave the other's away.
    classic_fork(gitrepo, feature_body=f"{ORDERS}  # revgraph: ignore[RG102]")
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert (run.code, run.codes()) == (1, ["RG102"])


def test_strict_turns_a_warning_into_exit_1(gitrepo, revgraph):
    only_a_warning(gitrepo)
    run = revgraph(gitrepo, "check", "--base", "main", "--format", "json")
    assert (run.code, run.codes()) == (0, ["RG203"])
    assert revgraph(gitrepo, "check", "--base", "main", "--strict").code == 1
    assert revgraph(gitrepo, "doctor", "--base", "main", "--strict").code == 1


# ------------------------------------------------------------------- doctor
def test_doctor_explains_a_finding_and_gives_the_fix_command(gitrepo, revgraph):
    from revgraph.rules import RULES

    classic_fork(gitrepo)
    run = revgraph(gitrepo, "doctor", "--base", "main")
    assert run.code == 1
    flat = " ".join(run.out.split())
    assert " ".join(RULES["RG102"].explanation.split()) in flat
    assert "git merge main; revgraph fix" in run.out


def test_doctor_says_all_is_well_on_a_healthy_branch(gitrepo, revgraph):
    gitrepo.init_env()
    gitrepo.add_revision(ROOT, None, message="create users")
    gitrepo.commit("root")
    gitrepo.git("checkout", "-q", "-b", "feature")
    gitrepo.add_revision(FEATURE_NEW, ROOT, message="next")
    gitrepo.commit("next")
    run = revgraph(gitrepo, "doctor", "--base", "main")
    assert run.code == 0
    assert re.search(r"all good|no problems", run.out, re.I), run.out


# --------------------------------------------------------------------- diff
def test_diff_reports_added_removed_edited_and_repointed_revisions(gitrepo, revgraph):
    gitrepo.init_env()
    paths = {ROOT: gitrepo.add_revision(ROOT, None, message="root")}
    paths["a"] = gitrepo.add_revision("rev0a", ROOT, message="a", body=USERS)
    paths["b"] = gitrepo.add_revision("rev0b", "rev0a", message="b")
    paths["c"] = gitrepo.add_revision("rev0c", "rev0b", message="c")
    gitrepo.commit("history")
    gitrepo.git("checkout", "-q", "-b", "feature")
    gitrepo.remove(paths["c"])
    gitrepo.write(paths["a"], gitrepo.read(paths["a"]).replace(b'"users"', b'"people"'))
    text = gitrepo.read(paths["b"]).decode()
    gitrepo.write(paths["b"], text.replace("= 'rev0a'", f"= {ROOT!r}"))
    gitrepo.add_revision("rev0d", "rev0b", message="d")
    gitrepo.commit("changes")

    expected = {
        "environment": "default",
        "added": ["rev0d"],
        "removed": ["rev0c"],
        "edited": ["rev0a"],
        "cosmetic": [],  # "users" -> "people" is code
        "repointed": [{"revision": "rev0b", "old": ["rev0a"], "new": [ROOT]}],
        "duplicated": [],
        "deduplicated": [],
        "unreadable": [],
    }
    between_refs = revgraph(gitrepo, "diff", "main", "feature", "--format", "json")
    against_worktree = revgraph(gitrepo, "diff", "main", "--format", "json")
    for run in (between_refs, against_worktree):
        assert run.code == 0
        assert run.json() == {"version": 1, "environments": [expected]}
    text_run = revgraph(gitrepo, "diff", "main", "feature")
    assert [line.split()[:2] for line in text_run.out.splitlines()] == [
        ["+", "rev0d"], ["-", "rev0c"], ["~", "rev0a"], [">", "rev0b"]
    ]
    same = revgraph(gitrepo, "diff", "feature", "feature", "--format", "json")
    (env,) = same.json()["environments"]
    assert not any(env[key] for key in ("added", "removed", "edited", "repointed", "duplicated"))


def test_diff_lists_a_revision_repointed_and_edited_as_both(gitrepo, revgraph):
    # QA: re-pointed and body-edited, a revision was listed re-pointed only, while
    # check reports both (RG201, RG203). A re-point alone stays re-pointed only.
    gitrepo.init_env()
    paths = {ROOT: gitrepo.add_revision(ROOT, None, message="root")}
    paths["a"] = gitrepo.add_revision("rev0a", ROOT, message="a")
    paths["b"] = gitrepo.add_revision("rev0b", "rev0a", message="b", body=USERS)
    paths["c"] = gitrepo.add_revision("rev0c", "rev0a", message="c")
    gitrepo.commit("history")
    gitrepo.git("checkout", "-q", "-b", "feature")
    for key, body_too in (("b", True), ("c", False)):
        text = gitrepo.read(paths[key]).replace(b"= 'rev0a'", f"= {ROOT!r}".encode())
        text = text.replace(b"Revises: rev0a", f"Revises: {ROOT}".encode())
        gitrepo.write(paths[key], text.replace(b'"users"', b'"people"') if body_too else text)
    gitrepo.commit("re-point both, edit one")

    for args in (("main", "feature"), ("main",)):
        (env,) = revgraph(gitrepo, "diff", *args, "--format", "json").json()["environments"]
        assert env["edited"] == ["rev0b"], env
        assert [r["revision"] for r in env["repointed"]] == ["rev0b", "rev0c"], env


# -------------------------------------------------------------------- rules
ALL_CODES = [
    "RG101", "RG102", "RG103", "RG104", "RG105", "RG106", "RG107",
    "RG201", "RG202", "RG203", "RG204", "RG301", "RG302",
    "RG401", "RG402", "RG403", "RG404", "RG501", "RG502",
]


def test_rules_lists_every_code_of_the_contract(tmp_path, revgraph):
    run = revgraph(tmp_path, "rules")
    assert run.code == 0
    assert sorted(set(re.findall(r"\bRG\d{3}\b", run.out))) == ALL_CODES


def test_rules_explains_one_code_with_its_fix(tmp_path, revgraph):
    from revgraph.rules import RULES

    run = revgraph(tmp_path, "rules", "RG102")
    assert run.code == 0
    flat = " ".join(run.out.split())
    rule = RULES["RG102"]
    for part in (rule.name, rule.explanation, rule.fix):
        assert " ".join(part.split()) in flat
    by_name = revgraph(tmp_path, "rules", rule.name)
    assert by_name.out == run.out


# --------------------------------------------------------------- exit codes
USER_MISTAKES = [
    ("check", "--format", "yaml"),
    ("check", "--select", "XX9"),
    ("--env", "nope", "check"),
    ("check", "--base", "no-such-branch"),
    ("heads", "--ref", "no-such-ref"),
    ("diff", "no-such-ref"),
    ("graph", "--ref", "no-such-ref"),
    ("rules", "RG999"),
    ("check", "--no-such-option"),
]


def test_user_mistakes_exit_2_with_a_message_and_no_traceback(gitrepo, revgraph):
    classic_fork(gitrepo)  # one repository for all: each run only reads it
    outcomes = {" ".join(args): revgraph(gitrepo, *args) for args in USER_MISTAKES}
    assert {cmd: run.code for cmd, run in outcomes.items()} == {cmd: 2 for cmd in outcomes}
    assert all(run.err.strip() for run in outcomes.values())
    assert gitrepo.status() == ""


def test_a_directory_without_an_environment_exits_2(gitrepo, revgraph):
    gitrepo.write("README.md", "no alembic here\n")
    gitrepo.commit("nothing")
    run = revgraph(gitrepo, "check")
    assert run.code == 2
    assert "no Alembic environment" in run.err


@pytest.mark.parametrize("command", [["check", "--format", "json"], ["graph", "--format", "mermaid"]])
def test_an_output_file_that_cannot_be_written_is_an_error_not_a_crash(gitrepo, tmp_path, command):
    classic_fork(gitrepo)
    for target, reason in ((tmp_path / "missing" / "report.out", "No such file or directory"),
                           (tmp_path, "it is a folder")):  # fmt: skip
        run = subprocess_run(gitrepo, *command, "-o", str(target))
        assert run.code == 2, run.err
        assert f"cannot write {target}: {reason}" in run.err
    assert not (tmp_path / "missing").exists()
    written = tmp_path / "report.out"
    run = subprocess_run(gitrepo, *command, "-o", str(written))
    assert run.code in (0, 1) and written.read_bytes()


def _graph_marks(revgraph, repo, *args) -> dict[str, set[str]]:  # noqa: F811
    run = revgraph(repo, "graph", "--format", "json", "--focus", "all", *args)
    assert run.code == 0, run.err
    return {node["id"]: set(node["marks"]) for node in json.loads(run.out)["nodes"]}


def test_graph_of_another_ref_carries_no_marks_of_the_working_trees_check(gitrepo, revgraph):
    classic_fork(gitrepo)  # feature checked out: RG102 against main
    here = _graph_marks(revgraph, gitrepo)
    assert "conflict" in here[FEATURE_NEW] and "conflict" in here[MAIN_NEW]
    of_main = _graph_marks(revgraph, gitrepo, "--ref", "main")
    assert set(of_main) == {ROOT, MAIN_NEW}  # main alone, not a merge into main
    assert not any("conflict" in marks for marks in of_main.values())
    merged = _graph_marks(revgraph, gitrepo, "--ref", "feature", "--base", "main")
    assert set(merged) == {ROOT, MAIN_NEW, FEATURE_NEW}  # asked for: the merge into main


@pytest.mark.parametrize("fmt", ["junit", "sarif"])
def test_a_check_that_cannot_run_still_writes_its_report_file_saying_why(gitrepo, fmt):
    # A tester: with -o FILE, exit 2 wrote no file: GitLab's test report and the
    # code-scanning upload found nothing, and failed on their own.
    import xml.etree.ElementTree as ElementTree

    import jsonschema

    gitrepo.init_env()
    gitrepo.add_revision("aaaa00000001", None, message="root")
    gitrepo.commit("root")

    done = gitrepo.run("check", "--base", "nosuchbranch", "--format", fmt, "-o", f"report.{fmt}", check=2)

    written = (gitrepo.path / f"report.{fmt}").read_text(encoding="utf-8")
    assert "nosuchbranch" in done.stderr and "nosuchbranch" in written
    if fmt == "junit":
        [error] = ElementTree.fromstring(written.encode()).iter("error")
        assert "nosuchbranch" in error.get("message")
    else:
        document = json.loads(written)
        jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text()))
        [invocation] = document["runs"][0]["invocations"]
        assert invocation["executionSuccessful"] is False


def test_a_github_report_file_of_a_check_that_cannot_run_holds_the_annotation(gitrepo):
    gitrepo.init_env()
    gitrepo.add_revision("aaaa00000001", None, message="root")
    gitrepo.commit("root")

    gitrepo.run("check", "--base", "nosuchbranch", "--format", "github", "-o", "annotations.txt", check=2)

    written = (gitrepo.path / "annotations.txt").read_text(encoding="utf-8")
    assert written.startswith("::error title=revgraph could not run::") and "nosuchbranch" in written
