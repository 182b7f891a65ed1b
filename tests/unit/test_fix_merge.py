"""Merge planning (PRODUCT §4): the file ``alembic merge`` would write, byte for byte."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from revgraph.config import Environment
from revgraph.errors import FixRefused, UsageError
from revgraph.fixes.merge import plan_merge
from revgraph.model import Revision, RevisionGraph

DATE = datetime(2024, 5, 17, 9, 30, 12, 345678)


def generic_template() -> Path:
    import alembic

    return Path(alembic.__file__).parent / "templates" / "generic" / "script.py.mako"


def make_project(
    root: Path,
    *,
    file_template: str | None = None,
    version_locations: tuple[str, ...] = (),
    template: str | None = None,
    extra: str = "",
) -> Environment:
    """An alembic project on disk (alembic.ini + script.py.mako) and its Environment."""
    script = root / "migrations"
    script.mkdir()
    if template is None:
        shutil.copy(generic_template(), script / "script.py.mako")
    else:
        (script / "script.py.mako").write_text(template)
    lines = ["[alembic]", "script_location = %(here)s/migrations"]
    if file_template:
        lines.append("file_template = " + file_template.replace("%", "%%"))
    if version_locations:
        lines.append("path_separator = space")
        lines.append("version_locations = " + " ".join(f"%(here)s/{v}" for v in version_locations))
    lines.append(extra)
    (root / "alembic.ini").write_text("\n".join(lines) + "\n")
    locations = tuple(root / v for v in version_locations) or (script / "versions",)
    for location in locations:
        location.mkdir(parents=True, exist_ok=True)
    return Environment(
        name="default",
        script_location=script,
        version_locations=locations,
        file_template=file_template or "%(rev)s_%(slug)s",
        config_file=root / "alembic.ini",
    )


def alembic_config(root: Path):
    from alembic.config import Config

    return Config(str(root / "alembic.ini"), stdout=open("/dev/null", "w"))


def add_revision(root: Path, rev_id: str, message: str, head: str = "base", *, version_path=None):
    """A revision written by alembic itself."""
    from alembic import command

    command.revision(
        alembic_config(root), message=message, rev_id=rev_id, head=head, splice=True,
        version_path=str(root / version_path) if version_path else None,
    )


def read_graph(root: Path, env: Environment) -> RevisionGraph:
    from revgraph.parse import parse_revision

    revisions = []
    for location in env.version_locations:
        for path in sorted(location.glob("*.py")):
            rev = parse_revision(path.read_bytes(), path.relative_to(root).as_posix())
            assert isinstance(rev, Revision), rev
            revisions.append(rev)
    return RevisionGraph(revisions)


def alembic_merge(root: Path, monkeypatch, *, message: str, rev_id: str, revisions="heads") -> Path:
    """Run the real ``alembic merge`` with the create date pinned; return the new file."""
    from alembic import command
    from alembic.script import ScriptDirectory

    monkeypatch.setattr(ScriptDirectory, "_generate_create_date", lambda self: DATE)
    script = command.merge(alembic_config(root), revisions, message=message, rev_id=rev_id)
    return Path(script.path)


def assert_same_as_alembic(plan, root: Path, written: Path) -> None:
    (edit,) = plan.edits
    assert edit.old is None
    assert edit.path == written.relative_to(root).as_posix()
    assert edit.new == written.read_bytes()


def three_heads(root: Path) -> None:
    # File names sort (alpha_zzz, mid_mmm, zeta_aaa) unlike the ids: alembic
    # lists heads in file order, and the merge's down_revision follows it.
    add_revision(root, "base0", "start")
    add_revision(root, "aaa", "zeta", head="base0")
    add_revision(root, "zzz", "alpha", head="base0")
    add_revision(root, "mmm", "mid", head="base0")


# -------------------------------------------------------- byte-for-byte
@pytest.mark.parametrize(
    "file_template",
    [
        None,
        "%(slug)s_%(rev)s",
        "%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d-%(second).2d_%(rev)s_%(slug)s",
        "%(epoch)s_%(rev)s",
    ],
)
def test_the_merge_file_is_what_alembic_merge_writes(tmp_path, monkeypatch, file_template):
    env = make_project(tmp_path, file_template=file_template)
    three_heads(tmp_path)
    graph = read_graph(tmp_path, env)

    plan = plan_merge(env, graph, message="join the three lines", rev_id="m3rg3", create_date=DATE, root=tmp_path)
    written = alembic_merge(tmp_path, monkeypatch, message="join the three lines", rev_id="m3rg3")

    assert_same_as_alembic(plan, tmp_path, written)


def test_heads_are_merged_in_the_order_alembic_reads_their_files(tmp_path):
    env = make_project(tmp_path, file_template="%(slug)s_%(rev)s")
    three_heads(tmp_path)

    plan = plan_merge(env, read_graph(tmp_path, env), message="m", rev_id="m3", create_date=DATE, root=tmp_path)

    assert b"down_revision: Union[str, Sequence[str], None] = ('zzz', 'mmm', 'aaa')" in plan.edits[0].new
    assert b"Revises: zzz, mmm, aaa\n" in plan.edits[0].new


def test_the_default_message_is_merge_heads_and_matches_alembic(tmp_path, monkeypatch):
    env = make_project(tmp_path)
    add_revision(tmp_path, "base0", "start")
    add_revision(tmp_path, "one", "one", head="base0")
    add_revision(tmp_path, "two", "two", head="base0")

    plan = plan_merge(env, read_graph(tmp_path, env), message=None, rev_id="mm1", create_date=DATE, root=tmp_path)
    written = alembic_merge(tmp_path, monkeypatch, message="merge heads", rev_id="mm1")

    assert_same_as_alembic(plan, tmp_path, written)
    assert plan.edits[0].path == "migrations/versions/mm1_merge_heads.py"


def test_a_long_message_is_slugged_and_truncated_like_alembic(tmp_path, monkeypatch):
    env = make_project(tmp_path)
    add_revision(tmp_path, "base0", "start")
    add_revision(tmp_path, "one", "one", head="base0")
    add_revision(tmp_path, "two", "two", head="base0")
    message = "Merge the payments line with the shipping line, again! (ticket #42)"

    plan = plan_merge(env, read_graph(tmp_path, env), message=message, rev_id="mm2", create_date=DATE, root=tmp_path)
    written = alembic_merge(tmp_path, monkeypatch, message=message, rev_id="mm2")

    assert_same_as_alembic(plan, tmp_path, written)


def test_a_custom_template_that_reads_the_config_renders_like_alembic(tmp_path, monkeypatch):
    template = generic_template().read_text().replace(
        '"""\n', '"""\n# url: ${config.get_main_option("sqlalchemy.url")}\n', 1
    ).replace("Revision ID:", "Revision ID (${refresh}):")
    env = make_project(tmp_path, template=template, extra="sqlalchemy.url = sqlite:///x.db")
    add_revision(tmp_path, "base0", "start")
    add_revision(tmp_path, "one", "one", head="base0")
    add_revision(tmp_path, "two", "two", head="base0")

    plan = plan_merge(env, read_graph(tmp_path, env), message="m", rev_id="mm3", create_date=DATE, root=tmp_path)
    written = alembic_merge(tmp_path, monkeypatch, message="m", rev_id="mm3")

    assert b"# url: sqlite:///x.db" in plan.edits[0].new
    assert_same_as_alembic(plan, tmp_path, written)


def test_with_several_version_locations_the_file_goes_where_the_first_head_lives(tmp_path, monkeypatch):
    env = make_project(tmp_path, version_locations=("db/one", "db/two"))
    add_revision(tmp_path, "base0", "start", version_path="db/one")
    add_revision(tmp_path, "bbb", "b", head="base0", version_path="db/two")
    add_revision(tmp_path, "aaa", "a", head="base0", version_path="db/one")

    plan = plan_merge(env, read_graph(tmp_path, env), message="m", rev_id="mm4", create_date=DATE, root=tmp_path)
    written = alembic_merge(tmp_path, monkeypatch, message="m", rev_id="mm4")

    assert_same_as_alembic(plan, tmp_path, written)
    assert plan.edits[0].path.startswith("db/one/")


def test_an_environment_read_by_load_project_renders_like_alembic(tmp_path, monkeypatch):
    from revgraph.config import load_project

    make_project(tmp_path, file_template="%(rev)s_%(slug)s")
    (env,) = load_project(tmp_path).environments
    add_revision(tmp_path, "base0", "start")
    add_revision(tmp_path, "one", "one", head="base0")
    add_revision(tmp_path, "two", "two", head="base0")

    plan = plan_merge(env, read_graph(tmp_path, env), message="x", rev_id="mm5", create_date=DATE, root=tmp_path)
    written = alembic_merge(tmp_path, monkeypatch, message="x", rev_id="mm5")

    assert_same_as_alembic(plan, tmp_path, written)


# ---------------------------------------------------------------- inputs
def two_heads(tmp_path: Path) -> tuple[Environment, RevisionGraph]:
    env = make_project(tmp_path)
    add_revision(tmp_path, "base0", "start")
    add_revision(tmp_path, "one", "one", head="base0")
    add_revision(tmp_path, "two", "two", head="base0")
    return env, read_graph(tmp_path, env)


def test_refuses_a_single_head(tmp_path):
    env = make_project(tmp_path)
    add_revision(tmp_path, "base0", "start")
    add_revision(tmp_path, "one", "one", head="base0")

    with pytest.raises(FixRefused, match="only one head .one.*ordinary revision"):
        plan_merge(env, read_graph(tmp_path, env), message=None, root=tmp_path)


def test_a_fresh_alembic_id_is_drawn_for_each_plan(tmp_path):
    env, graph = two_heads(tmp_path)

    from revgraph.parse import parse_revision

    ids = set()
    for _ in range(3):
        (edit,) = plan_merge(env, graph, message=None, root=tmp_path).edits
        rid = parse_revision(edit.new, edit.path).id
        assert re.fullmatch("[0-9a-f]{12}", rid)
        assert edit.path == f"migrations/versions/{rid}_merge_heads.py"
        ids.add(rid)

    assert len(ids) == 3


def test_without_a_date_the_create_date_follows_the_configured_timezone(tmp_path):
    env, graph = two_heads(tmp_path)
    from dataclasses import replace

    plan = plan_merge(replace(env, timezone="UTC"), graph, message=None, rev_id="tz1", root=tmp_path)

    create_line = next(l for l in plan.edits[0].new.splitlines() if l.startswith(b"Create Date:"))
    assert create_line.endswith(b"+00:00")
    stamp = datetime.fromisoformat(create_line.split(b": ", 1)[1].decode())
    assert abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 60


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("timezone", "Mars/Olympus", "Can't locate timezone: Mars/Olympus"),
        ("file_template", "%(rev)s_%(foo)s", "KeyError: 'foo'"),
        ("file_template", "%(rev)d", "TypeError"),
        ("file_template", "%(rev)s_%", "ValueError: incomplete format"),
        ("file_template", "%(epoch)c_%(rev)s", "OverflowError"),
    ],
)
def test_a_timezone_or_file_template_alembic_cannot_use_is_a_config_error(tmp_path, setting, value, said):
    # QA: these reached the user as "internal error ... a bug in revgraph" (exit 3).
    from dataclasses import replace

    from revgraph.errors import ConfigError

    env, graph = two_heads(tmp_path)
    with pytest.raises(ConfigError, match=re.escape(said)) as raised:
        plan_merge(replace(env, **{setting: value}), graph, message="m", rev_id="bad1", root=tmp_path)
    assert "alembic merge fails the same way" in str(raised.value)
    assert setting in (raised.value.hint or "")


def test_explicit_heads_keep_their_order(tmp_path, monkeypatch):
    env, graph = two_heads(tmp_path)

    plan = plan_merge(env, graph, heads=["two", "one"], message="m", rev_id="mm6", create_date=DATE, root=tmp_path)
    written = alembic_merge(tmp_path, monkeypatch, message="m", rev_id="mm6", revisions=["two", "one"])

    assert_same_as_alembic(plan, tmp_path, written)


def test_refuses_a_revision_that_is_not_a_head(tmp_path):
    env, graph = two_heads(tmp_path)

    with pytest.raises(FixRefused, match="base0 is not a head"):
        plan_merge(env, graph, heads=["base0", "one"], message=None, root=tmp_path)


def test_refuses_duplicate_or_unknown_heads_and_taken_or_illegal_ids(tmp_path):
    env, graph = two_heads(tmp_path)

    with pytest.raises(UsageError, match="Duplicate head"):
        plan_merge(env, graph, heads=["one", "one"], message=None, root=tmp_path)
    with pytest.raises(UsageError, match="no revision 'nope'"):
        plan_merge(env, graph, heads=["one", "nope"], message=None, root=tmp_path)
    with pytest.raises(UsageError, match="already taken"):
        plan_merge(env, graph, message=None, rev_id="one", root=tmp_path)
    with pytest.raises(UsageError, match="not allowed"):
        plan_merge(env, graph, message=None, rev_id="a@b", root=tmp_path)
    for escaping in ("../../evil", "sub/x", "a\\b", ".."):
        with pytest.raises(UsageError, match="must not contain a path separator"):
            plan_merge(env, graph, message=None, rev_id=escaping, root=tmp_path)


@pytest.mark.parametrize("rev_id, says", [
    ("", "--rev-id is empty"),
    ("head", "symbolic names"), ("heads", "symbolic names"), ("base", "symbolic names"),
    ("add users", "must not contain spaces"), ("a,b", "must not contain spaces"), ("a\tb", "must not contain spaces"),
    ("a\x00b", "must not contain spaces"),
])  # fmt: skip
def test_refuses_an_id_that_alembic_s_command_line_could_not_name(tmp_path, rev_id, says):
    # Alembic takes these; `alembic upgrade head` or a `Revises:` line cannot address them
    # (and `--rev-id ""` is a typo, not a wish for a fresh id).
    env, graph = two_heads(tmp_path)
    with pytest.raises(UsageError, match=says):
        plan_merge(env, graph, message=None, rev_id=rev_id, root=tmp_path)


def test_an_id_of_word_characters_and_dots_is_taken_as_given(tmp_path):
    env, graph = two_heads(tmp_path)
    plan = plan_merge(env, graph, message="join", rev_id="0005_release.2", root=tmp_path)
    assert any("0005_release.2" in note for note in plan.notes)


def test_refuses_an_environment_without_script_location(tmp_path):
    env, graph = two_heads(tmp_path)
    from dataclasses import replace

    with pytest.raises(FixRefused, match="no script_location"):
        plan_merge(replace(env, script_location=None), graph, message=None, root=tmp_path)


def test_configured_post_write_hooks_are_named_in_the_notes(tmp_path):
    env, graph = two_heads(tmp_path)
    with open(tmp_path / "alembic.ini", "a") as ini:
        ini.write("\n[post_write_hooks]\nhooks = fmt\nfmt.type = console_scripts\nfmt.entrypoint = black\n")

    plan = plan_merge(env, graph, message=None, root=tmp_path)

    assert any("post_write_hooks (fmt) were not run" in note for note in plan.notes)


def test_the_planned_merge_leaves_a_single_head_once_written(tmp_path):
    from revgraph.fixes.apply import apply_plan

    env, graph = two_heads(tmp_path)
    plan = plan_merge(env, graph, message=None, rev_id="join1", create_date=DATE, root=tmp_path)

    apply_plan(plan, tmp_path, allowed_dirs=env.version_locations)

    assert read_graph(tmp_path, env).heads == ("join1",)
