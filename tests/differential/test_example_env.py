"""alembic's own reading of generated and bundled revision files.

Two things are checked against alembic's ``ScriptDirectory``:

* the DAG generator (tests/support/dagspec.py): for random DAGs written to
  disk in every file style, alembic's heads, bases, labels and resolved
  ``depends_on`` equal a trivial reference computed from the spec;
* the bundled example environment (alembic.ini + migrations/): its shape,
  that its files are exactly what alembic writes, and that it upgrades and
  downgrades on SQLite.

The revgraph-vs-alembic differential tests build on the same generator.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support import EXAMPLE_VERSIONS, REPO_ROOT
from tests.support.dagspec import (
    dags,
    graph_spec,
    resolve_depends,
    spec_bases,
    spec_heads,
    spec_labels,
    write_spec,
)
from tests.support.gitrepo import sqlite_tables
from tests.support.revfiles import STYLES, render_revision, revision_filename

EXAMPLE_HEADS = {"5e2fd8cb71fc", "a424df1506f1"}
EXAMPLE_BASES = {"102a86671a82", "9ffabb25eb44"}
EXAMPLE_TABLES = {
    "alembic_version", "users", "teams", "team_memberships", "projects", "tasks",
    "comments", "tags", "task_tags", "audit_log", "daily_project_stats",
}


def alembic_map(script_location: Path):
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(script_location)).revision_map


def written_and_read_by_alembic(spec, style):
    with tempfile.TemporaryDirectory() as tmp:
        write_spec(Path(tmp) / "versions", spec, style)
        revision_map = alembic_map(Path(tmp))
        revisions = {rev.id: revision_map.get_revision(rev.id) for rev in spec}
        return revision_map, revisions


# -------------------------------------------------------- generated DAGs
@given(spec=dags(), style=st.sampled_from([*STYLES, "mixed"]))
def test_alembic_heads_and_bases_match_the_down_revision_reference(spec, style):
    revision_map, _ = written_and_read_by_alembic(spec, style)
    assert set(revision_map.heads) == spec_heads(spec)
    assert set(revision_map.bases) == spec_bases(spec)


@given(spec=dags(max_size=10), style=st.sampled_from([*STYLES, "mixed"]))
def test_alembic_resolves_generated_labels_and_depends_on_like_the_reference(spec, style):
    _, revisions = written_and_read_by_alembic(spec, style)
    labels = spec_labels(spec)
    for rev in spec:
        script = revisions[rev.id]
        assert tuple(script._versioned_down_revisions) == rev.down
        assert tuple(script._orig_branch_labels) == rev.branch_labels
        assert script._resolved_dependencies == resolve_depends(spec)[rev.id]
    for label, owner in labels.items():
        assert revisions[owner] is not None and label in revisions[owner].branch_labels


def test_alembic_cannot_load_a_depends_on_given_as_an_id_prefix(tmp_path):
    # Why dags() defaults to prefix_depends=False for alembic comparisons:
    # RevisionMap._add_depends_on looks names up in a dict of ids and labels.
    spec = graph_spec(
        "aaaa11112222<-bbbb11112222", "cccc11112222", depends={"cccc11112222": "bbbb1"}
    )
    write_spec(tmp_path / "versions", spec)
    with pytest.raises(KeyError, match="bbbb1"):
        alembic_map(tmp_path).heads  # noqa: B018 - loading the map is the point


# ------------------------------------------------------- bundled example
@pytest.fixture(scope="module")
def example_scripts(tmp_path_factory):
    from alembic.script import ScriptDirectory

    # A copy: alembic imports the files, which may leave __pycache__ behind.
    copy = tmp_path_factory.mktemp("example") / "migrations"
    shutil.copytree(REPO_ROOT / "migrations", copy, ignore=shutil.ignore_patterns("__pycache__"))
    script_dir = ScriptDirectory(str(copy))
    return script_dir, {s.revision: s for s in script_dir.walk_revisions()}


def test_example_has_two_labelled_heads_two_bases_a_merge_and_a_depends_on(example_scripts):
    script_dir, scripts = example_scripts
    assert len(scripts) >= 12
    assert set(script_dir.get_heads()) == EXAMPLE_HEADS
    assert set(script_dir.get_bases()) == EXAMPLE_BASES
    merges = [s for s in scripts.values() if s.is_merge_point]
    assert [s.revision for s in merges] == ["5d3958c34bc7"]
    labelled = {s.revision: s._orig_branch_labels for s in scripts.values() if s._orig_branch_labels}
    assert labelled == {"9ffabb25eb44": ("reporting",)}
    depends = {s.revision: s.dependencies for s in scripts.values() if s.dependencies}
    assert depends == {"9ffabb25eb44": "7faf510ba30b"}
    # Each head sits on its own labelled line, the pattern RG101 allows.
    assert script_dir.get_revision("reporting@head").revision == "a424df1506f1"


def _bodies(text: str) -> tuple[str, str]:
    """The upgrade and downgrade bodies, un-indented the way render_revision takes them."""
    match = re.search(
        r'"""Upgrade schema\."""\n    (.*?)\n\n\ndef downgrade\(\) -> None:\n'
        r'    """Downgrade schema\."""\n    (.*)\n$',
        text,
        re.S,
    )
    assert match, "not alembic's typed template layout"

    def dedent(body: str) -> str:
        first, *rest = body.split("\n")
        return "\n".join([first, *(line[4:] for line in rest)])

    return dedent(match.group(1)), dedent(match.group(2))


def test_example_files_are_exactly_what_alembic_revision_writes(example_scripts):
    _, scripts = example_scripts
    for script in scripts.values():
        path = Path(script.path)
        text = path.read_text()
        create_date = re.search(r"^Create Date: (.*)$", text, re.M).group(1)
        upgrade, downgrade = _bodies(text)
        assert path.name == revision_filename(script.revision, script.doc)
        assert text == render_revision(
            script.revision,
            script.down_revision,
            message=script.doc,
            branch_labels=script._orig_branch_labels or None,
            depends_on=script.dependencies,
            create_date=create_date,
            body=(upgrade, downgrade) if upgrade != "pass" else None,
        ), path.name


def test_example_create_dates_increase_along_every_down_revision(example_scripts):
    _, scripts = example_scripts

    def date(script):
        return re.search(r"^Create Date: (.*)$", Path(script.path).read_text(), re.M).group(1)

    for script in scripts.values():
        for parent in script._versioned_down_revisions:
            assert date(scripts[parent]) < date(script), script.revision
    assert len({date(s) for s in scripts.values()}) == len(scripts)


def test_example_versions_folder_holds_only_revision_files():
    stray = [
        p.name for p in EXAMPLE_VERSIONS.iterdir() if p.suffix != ".py" and p.name != "__pycache__"
    ]
    assert stray == []


def test_example_upgrades_every_head_and_downgrades_to_base_on_sqlite(gitrepo, tmp_path):
    gitrepo.copy_example()
    db = tmp_path / "example.db"
    gitrepo.alembic("-x", f"db=sqlite:///{db}", "upgrade", "heads")
    assert sqlite_tables(db) == EXAMPLE_TABLES
    with sqlite3.connect(db) as conn:
        stamped = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
    assert stamped == EXAMPLE_HEADS
    gitrepo.alembic("-x", f"db=sqlite:///{db}", "downgrade", "base")
    assert sqlite_tables(db) == {"alembic_version"}


def test_example_env_takes_the_url_from_the_environment_variable_too(gitrepo, tmp_path, monkeypatch):
    gitrepo.copy_example()
    db = tmp_path / "from_env.db"
    monkeypatch.setenv("REVGRAPH_EXAMPLE_DB", f"sqlite:///{db}")
    gitrepo.alembic("upgrade", "102a86671a82")
    assert sqlite_tables(db) == {"alembic_version", "users"}
    assert not (gitrepo.path / "example.db").exists()


def test_example_env_renders_offline_sql_for_every_head(gitrepo):
    # SQLite batch mode needs a live connection to reflect tables, so offline
    # SQL is shown for PostgreSQL: no server and no driver are needed for it.
    gitrepo.copy_example()
    url = "db=postgresql://app@localhost/app"
    sql = gitrepo.alembic("-x", url, "upgrade", "heads", "--sql").stdout
    for table in EXAMPLE_TABLES - {"alembic_version"}:
        assert f"CREATE TABLE {table} " in sql
    assert not (gitrepo.path / "example.db").exists(), "offline mode must not connect"
