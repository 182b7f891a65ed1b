"""A second environment as a section of alembic.ini (`alembic -n analytics ...`),
found without any revgraph configuration: checked, locked, merged and fixed."""

from __future__ import annotations

import json

from tests.support.gitrepo import GitRepo

ROOT = "0a0a0a0a0a01"
S1 = "5a5a5a5a5a01"
S2_FEATURE = "5b5b5b5b5b02"
S3_MAIN = "5c5c5c5c5c03"
STATS = "analytics/versions"


def two_environments(repo: GitRepo) -> None:
    """[alembic] and [analytics], each with a revision; `revgraph install`; committed.

    ``repo`` is new and empty; the result is built once and copied (``build_once``).
    """
    repo.build_once("ini_sections two environments", _two_environments)


def _two_environments(repo: GitRepo) -> None:
    repo.init_env(commit=False)
    ini = repo.read("alembic.ini").decode().replace(
        "[loggers]", "[analytics]\nscript_location = %(here)s/analytics\n\n[loggers]", 1
    )
    repo.write("alembic.ini", ini)
    repo.write("analytics/script.py.mako", repo.read("migrations/script.py.mako"))
    repo.add_revision(ROOT, None, message="create users")
    repo.add_revision(S1, None, message="create events", versions=STATS)
    repo.run("install", check=0)
    repo.commit("two environments")


def heads_json(repo: GitRepo, *args: str) -> dict[str, list[str]]:
    done = repo.run("heads", "--json", *args, check=0)
    return {env["name"]: env["heads"] for env in json.loads(done.stdout)["environments"]}


def test_the_second_section_is_checked_locked_and_fixed_like_the_first(gitrepo):
    two_environments(gitrepo)
    assert (gitrepo.path / "analytics" / "revgraph.lock").is_file()  # install wrote both lock files
    assert heads_json(gitrepo) == {"default": [ROOT], "analytics": [S1]}
    # The same heads alembic gives with -n.
    assert gitrepo.alembic("-n", "analytics", "heads").stdout.split()[0] == S1

    gitrepo.branch("feature")
    gitrepo.add_revision(S3_MAIN, S1, message="main: events index", versions=STATS)
    gitrepo.run("lock", check=0)
    gitrepo.commit("main adds an analytics revision")
    gitrepo.checkout("feature")
    gitrepo.add_revision(S2_FEATURE, S1, message="feature: events column", versions=STATS)
    gitrepo.run("lock", check=0)
    gitrepo.commit("feature adds an analytics revision")

    done = gitrepo.run("check", "--base", "main", "--format", "json", check=1)
    [fork] = json.loads(done.stdout)["findings"]
    assert (fork["code"], fork["environment"]) == ("RG102", "analytics")

    gitrepo.merge("main", expect_conflict=True)  # the driver stops at analytics/revgraph.lock
    assert "analytics/revgraph.lock" in gitrepo.git("diff", "--name-only", "--diff-filter=U").stdout
    gitrepo.run("fix", check=0)
    gitrepo.git("commit", "-q", "--no-edit")
    assert gitrepo.run("check", "--base", "main").returncode == 0
    assert heads_json(gitrepo, "--env", "analytics") == {"analytics": [S2_FEATURE]}
    assert gitrepo.alembic("-n", "analytics", "heads").stdout.split()[0] == S2_FEATURE


def test_a_database_belongs_to_one_environment_which_env_names(gitrepo, tmp_path):
    # One alembic_version table holds one environment's revisions: read against both,
    # the other environment reported them as unknown (a false RG501).
    two_environments(gitrepo)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    gitrepo.alembic("-x", f"db={url}", "upgrade", "head")  # the [alembic] environment's database
    for command in ("check", "fix"):
        done = gitrepo.run(command, "--db", url, check=2)
        assert "--db reads one environment's database: name it with --env NAME (known: default, analytics)" in done.stderr
        assert "Traceback" not in done.stderr
    done = gitrepo.run("check", "--env", "default", "--db", url, "--format", "json", check=0)
    assert json.loads(done.stdout)["findings"] == []
