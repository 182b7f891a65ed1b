"""``fix`` for one project of a monorepo, mid-merge, names the fix for the others' lock files.

A merge that conflicts two services' lock files is resolved one service at a
time. The fix run for the first used to end with "resolve and `git add` what
git still holds in conflict (../billing/migrations/revgraph.lock)", which
sends the user to edit a lock file by hand. It now names the command that
resolves it, as run where this one ran, and that command works.
Real repositories, the driver installed by ``revgraph install``, real ``git merge``.
"""

from __future__ import annotations

import re
import shlex

from tests.support.gitrepo import run_module
from tests.support.revfiles import TEMPLATES

SERVICE_INI = "[alembic]\nscript_location = %(here)s/migrations\n"
IDS = {  # service -> (base, main's, feature's)
    "api": ("a0a0a0a0a0a0", "a1a1a1a1a1a1", "a2a2a2a2a2a2"),
    "billing": ("b0b0b0b0b0b0", "b1b1b1b1b1b1", "b2b2b2b2b2b2"),
}


def _run(repo, cwd, command: str):
    return run_module("revgraph", *shlex.split(command)[1:], cwd=cwd, env=repo.env)


def _next_commands(out: str) -> list[str]:
    line = next(line for line in out.splitlines() if line.startswith("next: "))
    return re.findall(r"run `(revgraph [^`]*)`", line)


def _conflicted_services(gitrepo, layout, lock) -> None:
    """main and feature each add one revision to both services, off the same head;
    ``lock()`` records the heads before each commit; the merge is left in conflict."""
    for service, (base, _, _) in IDS.items():
        gitrepo.add_revision(base, None, message=f"create {service}", versions=layout(service))
    lock()
    gitrepo.commit("base")
    gitrepo.branch("feature")
    for branch, which in (("main", 1), ("feature", 2)):
        gitrepo.checkout(branch)
        for service, ids in IDS.items():
            gitrepo.add_revision(ids[which], ids[0], message=f"{branch} {service}", versions=layout(service))
        lock()
        gitrepo.commit(branch)
    gitrepo.checkout("main")
    gitrepo.merge("feature", expect_conflict=True)


def test_two_services_the_first_fix_names_the_second_and_it_resolves(gitrepo):
    for service in IDS:
        gitrepo.write(f"services/{service}/alembic.ini", SERVICE_INI)
        gitrepo.write(f"services/{service}/migrations/script.py.mako", TEMPLATES["typed"])
    api = gitrepo.path / "services" / "api"

    def lock() -> None:  # the first time, with the base revisions: install the driver too
        commands = ("lock",) if (api / "migrations" / "revgraph.lock").exists() else ("install", "lock")
        for service in IDS:
            for command in commands:
                done = _run(gitrepo, gitrepo.path, f"revgraph -C services/{service} {command}")
                assert done.returncode == 0, done.stdout + done.stderr

    _conflicted_services(gitrepo, lambda s: f"services/{s}/migrations/versions", lock)
    assert gitrepo.conflicted() == [f"services/{s}/migrations/revgraph.lock" for s in IDS]

    first = _run(gitrepo, api, "revgraph fix")

    assert first.returncode == 0, first.stdout + first.stderr
    assert _next_commands(first.stdout) == ["revgraph -C ../billing fix"], first.stdout
    assert "(../billing/migrations/revgraph.lock), then git merge --continue" in first.stdout
    assert gitrepo.conflicted() == ["services/billing/migrations/revgraph.lock"]
    second = _run(gitrepo, api, "revgraph -C ../billing fix")  # exactly as said, from there
    assert second.returncode == 0, second.stdout + second.stderr
    assert gitrepo.conflicted() == []
    assert "run `" not in second.stdout.split("next: ")[-1]  # nothing else to name
    gitrepo.git("-c", "core.editor=true", "merge", "--continue")
    for service in IDS:
        assert _run(gitrepo, gitrepo.path, f"revgraph -C services/{service} check --base main").returncode == 0


TWO_ENVIRONMENTS = """\
[tool.revgraph.environments.api]
config = "api.ini"

[tool.revgraph.environments.billing]
config = "billing.ini"
"""


def test_two_environments_of_one_project_the_fix_for_one_names_the_other(gitrepo):
    gitrepo.write("pyproject.toml", TWO_ENVIRONMENTS)
    for service in IDS:
        gitrepo.write(f"{service}.ini", f"[alembic]\nscript_location = %(here)s/{service}\n")
        gitrepo.write(f"{service}/script.py.mako", TEMPLATES["typed"])

    def lock() -> None:
        for command in ("install", "lock") if not (gitrepo.path / "api" / "revgraph.lock").exists() else ("lock",):
            done = _run(gitrepo, gitrepo.path, f"revgraph {command}")
            assert done.returncode == 0, done.stdout + done.stderr

    _conflicted_services(gitrepo, lambda s: f"{s}/versions", lock)
    assert len(gitrepo.conflicted()) == 2, gitrepo.conflicted()

    first = _run(gitrepo, gitrepo.path, "revgraph --env api fix")

    assert first.returncode == 0, first.stdout + first.stderr
    assert _next_commands(first.stdout) == ["revgraph --env billing fix"], first.stdout
    second = _run(gitrepo, gitrepo.path, "revgraph --env billing fix")
    assert second.returncode == 0, second.stdout + second.stderr
    assert gitrepo.conflicted() == []
    gitrepo.git("-c", "core.editor=true", "merge", "--continue")
    assert _run(gitrepo, gitrepo.path, "revgraph check --base main").returncode == 0


SECTIONS = """\
[alembic]
script_location = %(here)s/api

[billing]
script_location = %(here)s/billing
"""


def test_two_sections_of_one_ini_the_fix_for_one_names_the_other_without_its_name(gitrepo):
    # Review: `revgraph -n billing fix` named `revgraph --name billing --env default fix`,
    # which fails (--name makes a project of billing alone: "unknown environment").
    gitrepo.write("alembic.ini", SECTIONS)
    for folder in ("api", "billing"):
        gitrepo.write(f"{folder}/script.py.mako", TEMPLATES["typed"])
    layout = {"api": "api/versions", "billing": "billing/versions"}

    def lock() -> None:
        commands = ("lock",) if (gitrepo.path / "api" / "revgraph.lock").exists() else ("install", "lock")
        for command in commands:
            done = _run(gitrepo, gitrepo.path, f"revgraph {command}")
            assert done.returncode == 0, done.stdout + done.stderr

    _conflicted_services(gitrepo, lambda s: layout[s], lock)

    first = _run(gitrepo, gitrepo.path, "revgraph -n billing fix")

    assert first.returncode == 0, first.stdout + first.stderr
    [command] = _next_commands(first.stdout)
    assert command == "revgraph --env default fix", first.stdout
    second = _run(gitrepo, gitrepo.path, command)
    assert second.returncode == 0, second.stdout + second.stderr
    assert gitrepo.conflicted() == []
