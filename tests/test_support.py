"""The shared fixtures are tested too: a helper that lies makes every test lie."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from hypothesis import Phase, find, given, settings

from tests.support import EXAMPLE_MIGRATIONS, EXAMPLE_VERSIONS
from tests.support.dagspec import (
    LABEL_WORDS,
    RevSpec,
    dags,
    graph_spec,
    resolve_depends,
    spec_bases,
    spec_heads,
    spec_labels,
    write_spec,
)
from tests.support.gitrepo import GIT_NAME, GitCommandFailed, GitRepo, sqlite_tables
from tests.support.revfiles import (
    GENERIC_TEMPLATE,
    STYLES,
    TYPED_TEMPLATE,
    render_revision,
    revision_filename,
    slug,
)

HEX12 = re.compile(r"^[0-9a-f]{12}$")
CREATE_DATE = re.compile(r"^Create Date: (.*)$", re.M)


def alembic_config(repo: GitRepo):
    from alembic.config import Config

    return Config(str(repo.path / "alembic.ini"), stdout=io.StringIO())


def load_scripts(versions_parent: Path):
    """alembic's own reading of ``versions_parent/versions``: id -> Script."""
    from alembic.script import ScriptDirectory

    script_dir = ScriptDirectory(str(versions_parent))
    return script_dir, {s.revision: s for s in script_dir.walk_revisions()}


# ----------------------------------------------------------------- revfiles
def test_typed_template_is_the_one_bundled_with_the_example():
    assert (EXAMPLE_MIGRATIONS / "script.py.mako").read_text() == TYPED_TEMPLATE


@pytest.mark.parametrize("style", ["typed", "generic"])
def test_render_revision_is_byte_identical_to_alembic_revision_and_merge(gitrepo, style):
    from alembic import command

    gitrepo.init_env(script_template=style)
    cfg = alembic_config(gitrepo)
    long_message = "add a rather long column name to the users table for reports"
    cases = [
        dict(rev_id="aaaa00000001", message="create users", head="base"),
        dict(rev_id="bbbb00000002", message=long_message, head="aaaa00000001"),
        dict(rev_id="cccc00000003", message="fork", head="aaaa00000001", splice=True),
        dict(
            rev_id="dddd00000004",
            message="reporting base",
            head="base",
            branch_label="reporting",
            depends_on=["bbbb00000002", "cccc"],
        ),
    ]
    expected = [
        ("aaaa00000001", None, {}),
        ("bbbb00000002", "aaaa00000001", {}),
        ("cccc00000003", "aaaa00000001", {}),
        # alembic resolves the prefix "cccc" to the full id when writing.
        ("dddd00000004", None, dict(branch_labels="reporting", depends_on=["bbbb00000002", "cccc00000003"])),
    ]
    scripts = [command.revision(cfg, **case) for case in cases]
    scripts.append(
        command.merge(cfg, ["bbbb00000002", "cccc00000003"], message="merge heads", rev_id="eeee00000005")
    )
    expected.append(("eeee00000005", ("bbbb00000002", "cccc00000003"), {}))
    messages = [case["message"] for case in cases] + ["merge heads"]

    for script, (rev_id, down, extra), message in zip(scripts, expected, messages, strict=True):
        written = Path(script.path).read_text()
        create_date = CREATE_DATE.search(written).group(1)
        assert Path(script.path).name == revision_filename(rev_id, message)
        assert written == render_revision(
            rev_id, down, message=message, style=style, create_date=create_date, **extra
        )


def test_slug_truncates_long_messages_like_alembic():
    assert slug("Add a column!") == "add_a_column"
    assert slug("add a rather long column name to the users table") == (
        "add_a_rather_long_column_name_to_the_"
    )
    assert revision_filename("abc", None) == "abc_.py"


def test_every_style_loads_in_alembic_with_the_declared_graph(tmp_path):
    spec = graph_spec(
        "a1<-b2<-m4", "a1<-c3<-m4", "r5<-r6",
        labels={"r5": "reporting"},
        depends={"r5": "b2", "r6": ["reporting", "c3"]},
    )
    for style in STYLES:
        folder = tmp_path / style
        write_spec(folder / "versions", spec, style)
        _, scripts = load_scripts(folder)
        assert set(scripts) == {rev.id for rev in spec}
        for rev in spec:
            script = scripts[rev.id]
            assert tuple(script._versioned_down_revisions) == rev.down, style
            assert tuple(script._orig_branch_labels) == rev.branch_labels, style
            assert script._resolved_dependencies == resolve_depends(spec)[rev.id], style


def test_custom_style_wraps_merge_parents_and_uses_double_quoted_lists():
    text = render_revision(
        "ffff00000001", ("aaaa00000001", "bbbb00000002"),
        message="merge", style="custom", branch_labels="reporting", depends_on="cccc00000003",
    )
    assert '= (\n    "aaaa00000001",\n    "bbbb00000002",\n)' in text
    assert 'branch_labels: list[str] | None = ["reporting"]' in text
    assert 'depends_on: list[str] | None = ["cccc00000003"]' in text
    assert "'" not in text


def test_crlf_revision_has_no_bare_newline_and_still_loads(tmp_path):
    text = render_revision("abcd00000001", None, message="crlf", newline="\r\n")
    assert "\n" not in text.replace("\r\n", "")
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "abcd00000001_crlf.py").write_bytes(text.encode())
    _, scripts = load_scripts(tmp_path)
    assert list(scripts) == ["abcd00000001"]


def test_generic_style_has_no_annotations():
    text = render_revision("abcd00000001", "0123456789ab", message="m", style="generic")
    assert "down_revision = '0123456789ab'\n" in text
    assert text != render_revision("abcd00000001", "0123456789ab", message="m", style="typed")
    assert GENERIC_TEMPLATE != TYPED_TEMPLATE


# ----------------------------------------------------------------- dagspec
def test_graph_spec_accumulates_parents_into_merges_and_orders_parents_first():
    spec = graph_spec("c<-m", "a<-b<-c", "a<-d", "d<-m", "x")
    by_id = {rev.id: rev for rev in spec}
    assert by_id["m"].down == ("c", "d")
    assert by_id["b"].down == ("a",)
    assert by_id["x"].down == ()
    order = [rev.id for rev in spec]
    for rev in spec:
        assert all(order.index(p) < order.index(rev.id) for p in rev.down)
    assert spec_heads(spec) == {"m", "x"}
    assert spec_bases(spec) == {"a", "x"}


def test_graph_spec_rejects_cycles_bad_names_and_unknown_options():
    with pytest.raises(ValueError, match="cycle"):
        graph_spec("a<-b<-a")
    with pytest.raises(ValueError, match="bad revision name"):
        graph_spec("a<-b-c")
    with pytest.raises(ValueError, match="unknown"):
        graph_spec("a<-b", labels={"z": "rep"})


def test_graph_spec_resolves_depends_by_label_and_prefix():
    spec = graph_spec(
        "aaaa1111<-bbbb2222", "cccc3333",
        labels={"cccc3333": "reporting"},
        depends={"bbbb2222": ["reporting"], "cccc3333": ["aaaa1"]},
    )
    assert spec_labels(spec) == {"reporting": "cccc3333"}
    deps = resolve_depends(spec)
    assert deps["bbbb2222"] == ("cccc3333",)
    assert deps["cccc3333"] == ("aaaa1111",)


@given(dags(prefix_depends=True))
def test_random_dags_are_acyclic_with_unique_ids_labels_and_resolvable_depends(spec):
    ids = [rev.id for rev in spec]
    assert len(set(ids)) == len(ids)
    assert all(HEX12.match(rid) for rid in ids)
    seen: set[str] = set()
    for rev in spec:
        assert set(rev.down) <= seen, "a parent must come before its child"
        assert len(set(rev.down)) == len(rev.down) <= 3
        seen.add(rev.id)
    labels = [label for rev in spec for label in rev.branch_labels]
    assert len(set(labels)) == len(labels)
    assert not set(labels) & set(ids)
    earlier = {rev.id: set(ids[: ids.index(rev.id)]) for rev in spec}
    for rid, targets in resolve_depends(spec).items():
        assert set(targets) <= earlier[rid], "depends_on must point backwards"
    assert 1 <= len(spec_bases(spec)) <= 3


def test_random_dags_cover_every_shape_the_differential_tests_need():
    # `find` fails the test if the strategy can never produce the shape.
    def has_triple_merge(spec):
        return any(len(rev.down) == 3 for rev in spec)

    def has_label_depends_and_several_bases(spec):
        labels = spec_labels(spec)
        return len(spec_bases(spec)) >= 2 and any(
            dep in labels for rev in spec for dep in rev.depends_on
        )

    def has_prefix_depends(spec):
        ids = {rev.id for rev in spec}
        labels = spec_labels(spec)
        return any(d not in ids and d not in labels for rev in spec for d in rev.depends_on)

    # Generate only: shrinking a found example to a minimal one takes minutes.
    quick = settings(phases=[Phase.generate], max_examples=1000, database=None)
    assert has_triple_merge(find(dags(), has_triple_merge, settings=quick))
    assert has_label_depends_and_several_bases(
        find(dags(), has_label_depends_and_several_bases, settings=quick)
    )
    assert has_prefix_depends(find(dags(prefix_depends=True), has_prefix_depends, settings=quick))


@given(dags())
def test_dags_without_prefix_option_name_depends_by_id_or_label_only(spec):
    names = {rev.id for rev in spec} | set(spec_labels(spec))
    assert all(dep in names for rev in spec for dep in rev.depends_on)
    assert set(spec_labels(spec)) <= set(LABEL_WORDS)


def test_write_spec_names_files_like_alembic_with_increasing_dates(tmp_path):
    spec = graph_spec("a<-b<-c", messages={"b": "Add users!"})
    paths = write_spec(tmp_path, spec, "mixed")
    assert [p.name for p in paths] == ["a_revision_a.py", "b_add_users.py", "c_revision_c.py"]
    dates = [CREATE_DATE.search(p.read_text()).group(1) for p in paths]
    assert dates == sorted(dates) and len(set(dates)) == 3
    assert "revision: str = 'a'" in paths[0].read_text()  # typed
    assert "revision = 'b'" in paths[1].read_text()  # generic
    assert 'revision: str = "c"' in paths[2].read_text()  # custom


def test_revspec_unpacks_as_a_plain_tuple():
    rid, down, labels, depends, message = RevSpec("a", ("b",))
    assert (rid, down, labels, depends, message) == ("a", ("b",), (), (), None)


# ------------------------------------------------------------------ gitrepo
@pytest.fixture
def hostile_outer_env(monkeypatch, tmp_path):
    """What a CI runner or a developer's shell could leak into a test."""
    monkeypatch.setenv("GITHUB_BASE_REF", "evil")
    monkeypatch.setenv("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "evil")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("REVGRAPH_EXAMPLE_DB", "postgresql://prod")
    monkeypatch.setenv("FORCE_COLOR", "1")


def test_fixture_isolates_environment_from_ci_and_user_git_config(hostile_outer_env, gitrepo, tmp_path):
    for name in ("GITHUB_BASE_REF", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "GIT_DIR",
                 "REVGRAPH_EXAMPLE_DB", "FORCE_COLOR", "GITHUB_STEP_SUMMARY"):
        assert name not in os.environ
    assert os.environ["HOME"] == str(tmp_path / "home")
    assert os.environ["NO_COLOR"] == "1" and os.environ["GIT_CONFIG_NOSYSTEM"] == "1"
    assert gitrepo.git("config", "--global", "init.defaultBranch").stdout.strip() == "main"
    assert gitrepo.git("config", "user.name").stdout.strip() == GIT_NAME
    assert gitrepo.git("rev-parse", "--show-toplevel").stdout.strip() == str(gitrepo.path)


def test_two_branches_adding_revisions_merge_without_git_conflict_but_leave_two_heads(gitrepo):
    gitrepo.init_env()
    gitrepo.add_revision("aaaa00000001", None, message="create users")
    landed = gitrepo.commit("landed revision")
    for branch, rid in (("feature-a", "bbbb00000002"), ("feature-b", "cccc00000003")):
        gitrepo.branch(branch, landed)
        gitrepo.checkout(branch)
        gitrepo.add_revision(rid, "aaaa00000001", message=f"work on {branch}")
        gitrepo.commit(f"add {rid}")
    gitrepo.checkout("feature-a")
    gitrepo.merge("feature-b")

    assert gitrepo.conflicted() == [] and gitrepo.status() == ""
    versions = [p for p in gitrepo.ls_files() if p.startswith("migrations/versions/")]
    assert len(versions) == 3
    heads = gitrepo.alembic("heads").stdout.split()
    assert sorted(h for h in heads if HEX12.match(h)) == ["bbbb00000002", "cccc00000003"]


def test_merge_editing_the_same_line_is_reported_as_a_conflict(gitrepo):
    gitrepo.write("notes.txt", "base\n")
    base = gitrepo.commit("base")
    gitrepo.branch("other", base)
    gitrepo.write("notes.txt", "ours\n")
    gitrepo.commit("ours")
    gitrepo.checkout("other")
    gitrepo.write("notes.txt", "theirs\n")
    gitrepo.commit("theirs")
    gitrepo.checkout("main")

    gitrepo.merge("other", expect_conflict=True)
    assert gitrepo.conflicted() == ["notes.txt"]
    assert b"<<<<<<<" in gitrepo.read("notes.txt")
    assert gitrepo.git("rev-parse", "-q", "--verify", "MERGE_HEAD", check=None).returncode == 0


def test_merge_raises_when_the_conflict_expectation_is_wrong(gitrepo):
    gitrepo.write("a.txt", "a\n")
    base = gitrepo.commit("base")
    gitrepo.branch("side", base)
    gitrepo.checkout("side")
    gitrepo.write("b.txt", "b\n")
    gitrepo.commit("side")
    gitrepo.checkout("main")
    with pytest.raises(AssertionError, match="expected a conflict"):
        gitrepo.merge("side", expect_conflict=True)


def _diverged(gitrepo, path="f.txt"):
    """main and topic both change ``path`` after a common base."""
    gitrepo.write(path, "base\n")
    base = gitrepo.commit("base")
    gitrepo.write(path, "main\n")
    gitrepo.commit("main change")
    gitrepo.branch("topic", base)
    gitrepo.checkout("topic")
    gitrepo.write(path, "topic\n")
    return gitrepo.commit("topic change")


def test_rebase_stops_on_conflict_and_reports_the_path(gitrepo):
    _diverged(gitrepo)
    gitrepo.rebase("main", expect_conflict=True)
    assert gitrepo.conflicted() == ["f.txt"]
    assert (gitrepo.path / ".git" / "rebase-merge").is_dir()


def test_cherry_pick_applies_cleanly_or_stops_on_conflict(gitrepo):
    topic = _diverged(gitrepo)
    gitrepo.checkout("main")
    gitrepo.write("g.txt", "new\n")
    clean = gitrepo.commit("unrelated")
    gitrepo.checkout("topic")
    gitrepo.cherry_pick(clean)
    assert gitrepo.read("g.txt") == b"new\n"
    gitrepo.checkout("main")
    gitrepo.cherry_pick(topic, expect_conflict=True)
    assert gitrepo.conflicted() == ["f.txt"]


def test_clean_rebase_makes_history_linear(gitrepo):
    gitrepo.write("a.txt", "a\n")
    base = gitrepo.commit("base")
    gitrepo.write("m.txt", "m\n")
    main_tip = gitrepo.commit("main")
    gitrepo.branch("topic", base)
    gitrepo.checkout("topic")
    gitrepo.write("t.txt", "t\n")
    gitrepo.commit("topic")
    gitrepo.rebase("main")
    assert gitrepo.rev_parse("HEAD~1") == main_tip


def test_commit_with_paths_stages_only_those_paths(gitrepo):
    gitrepo.write("one.txt", "1\n")
    gitrepo.write("two.txt", "2\n")
    gitrepo.commit("only one", "one.txt")
    assert gitrepo.ls_files() == ["one.txt"]
    assert gitrepo.status() == "?? two.txt\n"


def test_write_and_read_keep_exact_bytes(gitrepo):
    data = b"line\r\nno newline at end \xe2\x9c\x93"
    gitrepo.write("dir with space/f\u00e9.py", data)
    gitrepo.commit("bytes")
    assert gitrepo.read("dir with space/f\u00e9.py") == data
    assert gitrepo.show("HEAD", "dir with space/f\u00e9.py") == data
    assert gitrepo.git("show", "HEAD:dir with space/f\u00e9.py").stdout.encode() == data


def test_add_revision_gives_increasing_create_dates_and_alembic_file_names(gitrepo):
    first = gitrepo.add_revision("aaaa00000001", None, message="First one")
    second = gitrepo.add_revision("bbbb00000002", "aaaa00000001", message="second", style="custom")
    assert first == "migrations/versions/aaaa00000001_first_one.py"
    dates = [CREATE_DATE.search(gitrepo.read(p).decode()).group(1) for p in (first, second)]
    assert dates[0] < dates[1]


def test_init_env_commits_a_working_alembic_env_without_revisions_on_main(gitrepo, tmp_path):
    gitrepo.init_env()
    assert gitrepo.current_branch() == "main"
    assert gitrepo.ls_files() == ["alembic.ini", "migrations/env.py", "migrations/script.py.mako"]
    gitrepo.add_revision(
        "aaaa00000001", None, message="create widgets",
        body=('op.create_table("widgets", sa.Column("id", sa.Integer(), primary_key=True))',
              'op.drop_table("widgets")'),
    )
    db = tmp_path / "w.db"
    gitrepo.alembic("-x", f"db=sqlite:///{db}", "upgrade", "head")
    assert sqlite_tables(db) == {"alembic_version", "widgets"}
    gitrepo.alembic("-x", f"db=sqlite:///{db}", "downgrade", "base")
    assert sqlite_tables(db) == {"alembic_version"}


def test_copy_example_commits_every_bundled_revision(gitrepo):
    gitrepo.copy_example()
    committed = {Path(p).name for p in gitrepo.ls_files() if p.startswith("migrations/versions/")}
    assert committed == {p.name for p in EXAMPLE_VERSIONS.glob("*.py")}
    assert "alembic.ini" in gitrepo.ls_files()
    assert gitrepo.status() == ""


def test_clone_has_origin_main_at_the_source_head(gitrepo, tmp_path):
    gitrepo.write("a.txt", "a\n")
    sha = gitrepo.commit("base")
    clone = gitrepo.clone(tmp_path / "clone")
    assert clone.rev_parse("origin/main") == sha


def test_failed_git_command_raises_with_its_output(gitrepo):
    with pytest.raises(GitCommandFailed) as info:
        gitrepo.git("rev-parse", "--verify", "no-such-ref")
    assert "no-such-ref" in str(info.value) or "fatal" in str(info.value)
    assert gitrepo.git("rev-parse", "--verify", "no-such-ref", check=128).returncode == 128


def test_alembic_cli_fixture_runs_alembic_in_the_given_repo(alembic_cli, gitrepo):
    gitrepo.copy_example()
    out = alembic_cli(gitrepo.path, "heads").stdout
    assert "5e2fd8cb71fc (head)" in out and "a424df1506f1 (reporting) (head)" in out


def test_run_calls_the_real_cli_from_outside_the_repo(gitrepo):
    pytest.importorskip("revgraph.cli")
    proc = gitrepo.run("--help", check=0)
    assert "heads" in proc.stdout


# ---------------------------------------------------------------- templates
def test_a_template_is_built_once_and_each_copy_is_the_build_and_its_own(tmp_path, git_env):
    from tests.support.templates import RepoTemplates

    store = RepoTemplates(tmp_path / "store")
    builds = []

    def build(repo: GitRepo) -> str:
        builds.append(repo.path)
        repo.init_env()
        repo.add_revision("aaaa00000001", None, message="first")
        sha = repo.commit("first revision")
        repo.write("untracked.txt", "not committed\n")
        repo.branch("feature")
        return sha

    one, sha = store.copy("k", tmp_path / "one", build)
    two, sha_again = store.copy("k", tmp_path / "two", build)
    assert len(builds) == 1 and sha == sha_again == one.head() == two.head()
    assert one.current_branch() == "main" and one.rev_parse("feature") == sha
    assert one.status() == two.status() == "?? untracked.txt\n"
    assert (one.path / "migrations" / "versions").is_dir()  # untracked empty folders too
    # Dates go on from the build's: the next revision is later than the built one.
    later = one.add_revision("bbbb00000002", "aaaa00000001", message="second")
    built = next((one.path / "migrations" / "versions").glob("aaaa00000001_*.py"))
    assert CREATE_DATE.search(built.read_text()).group(1) < CREATE_DATE.search(one.read(later).decode()).group(1)
    # Each copy is its own.
    one.commit("second revision")
    assert two.head() == sha and not (two.path / later).exists()
    assert store.copy("k", tmp_path / "three", build)[0].head() == sha


def test_a_template_replaces_a_repository_in_place(tmp_path, git_env):
    from tests.support.templates import RepoTemplates

    store = RepoTemplates(tmp_path / "store")
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("old.txt", "old\n")
    repo.commit("old")

    def build(r: GitRepo) -> str:
        r.write("new.txt", "new\n")
        return r.commit("new")

    sha = store.replace(repo, "other", build)
    assert repo.path == tmp_path / "repo" and repo.head() == sha
    assert repo.ls_files() == ["new.txt"] and not (repo.path / "old.txt").exists()


def test_build_once_builds_a_new_repository_once_and_refuses_one_in_use(make_gitrepo):
    builds = []

    def build(repo: GitRepo) -> str:
        builds.append(1)
        repo.write("a.txt", "a\n")
        return repo.commit("a")

    first, second = make_gitrepo("one"), make_gitrepo("two")
    assert first.build_once("support build_once", build) == second.build_once("support build_once", build)
    assert len(builds) == 1 and first.read("a.txt") == second.read("a.txt") == b"a\n"
    assert first.head() == second.head() and first.status() == ""
    with pytest.raises(AssertionError, match="new, empty repository"):
        first.build_once("support build_once", build)
    plain = GitRepo.init(first.path.parent / "plain")  # no store: built in place
    plain.build_once("support build_once", build)
    assert len(builds) == 2 and plain.read("a.txt") == b"a\n"


def test_build_once_copies_the_files_written_beside_the_repository(make_gitrepo):
    def build(repo: GitRepo) -> None:
        repo.write("a.txt", "a\n")
        repo.commit("a")
        (repo.path.parent / "app.db").write_bytes(b"built beside\n")

    one, two = make_gitrepo("one/repo"), make_gitrepo("two/repo")
    for repo in (one, two):
        repo.build_once("support beside", build, beside=["app.db"])
        assert (repo.path.parent / "app.db").read_bytes() == b"built beside\n"
        assert repo.status() == "" and repo.read("a.txt") == b"a\n"
    with pytest.raises(AssertionError, match="would overwrite"):
        make_gitrepo("one/other").build_once("support beside", build, beside=["app.db"])


def test_the_head_read_from_files_is_what_git_says_or_nothing(gitrepo):
    assert gitrepo._head_from_files() == (None, None)  # unborn main: ask git
    gitrepo.write("a.txt", "a\n")
    first = gitrepo.commit("a")
    assert first == gitrepo.rev_parse("HEAD") and gitrepo._head_from_files() == ("main", first)
    gitrepo.git("checkout", "-q", "-b", "feature")
    gitrepo.write("b.txt", "b\n")
    second = gitrepo.commit("b")
    assert gitrepo._head_from_files() == ("feature", second) == (gitrepo.current_branch(), gitrepo.head())
    gitrepo.git("checkout", "-q", "--detach", first)
    assert gitrepo._head_from_files() == (None, first)
    gitrepo.checkout("feature")
    gitrepo.git("pack-refs", "--all")  # no loose ref left: git is asked
    assert gitrepo._head_from_files() == (None, None)
    gitrepo.write("c.txt", "c\n")
    assert gitrepo.commit("c") == gitrepo.rev_parse("feature") != second
    with pytest.raises(AssertionError, match="expected to be on main"):
        gitrepo.init_env()
