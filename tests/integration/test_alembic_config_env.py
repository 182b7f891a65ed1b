"""``ALEMBIC_CONFIG`` chooses the config, as it does for alembic's own commands.

alembic reads ``$ALEMBIC_CONFIG`` instead of ``alembic.ini`` when no ``-c`` is
given. revgraph ignored it: with an ``alembic.ini`` that points elsewhere (a
legacy environment), ``revgraph heads`` said "(no revisions)" and ``check``
passed while ``alembic heads`` listed two heads. A CI job that sets the
variable got a false pass. Real repository, real alembic, real CLI.
"""

from __future__ import annotations

import json
import os
import time

from tests.support.gitrepo import run_alembic

BASE, ONE, TWO = "a0a0a0a0a0a0", "b1b1b1b1b1b1", "c2c2c2c2c2c2"


def _env(**changes: str) -> dict[str, str]:
    return {**os.environ, **changes}  # the isolated environment (git_env) plus these


def test_alembic_config_picks_the_environment_heads_and_check_read(gitrepo):
    gitrepo.init_env(commit=False)
    ini = gitrepo.read("alembic.ini")
    gitrepo.write("other.ini", ini)  # the real one: migrations/
    gitrepo.write("alembic.ini", ini.replace(b"%(here)s/migrations", b"%(here)s/legacy"))
    gitrepo.write("legacy/script.py.mako", gitrepo.read("migrations/script.py.mako"))
    (gitrepo.path / "legacy" / "versions").mkdir()
    gitrepo.add_revision(BASE, None, message="base")
    gitrepo.commit("base")
    gitrepo.add_revision(ONE, BASE, message="one")
    gitrepo.add_revision(TWO, BASE, message="two")
    with_var = _env(ALEMBIC_CONFIG="other.ini")
    alembic = run_alembic(gitrepo.path, "heads", env=with_var)
    assert {line.split()[0] for line in alembic.stdout.splitlines()} == {ONE, TWO}
    time.sleep(2.1)  # files old enough to vouch for their content: express tickets are written
    for _ in range(2):  # the second may be answered by the ticket the first wrote
        plain = gitrepo.run("check", check=True)  # alembic.ini's empty legacy environment: nothing wrong
        assert "All good" in plain.stdout

    heads = gitrepo.run("heads", "--json", env=with_var, check=True)
    check = gitrepo.run("check", env=with_var)  # not the stored answer (nor ticket) of the runs above

    [environment] = json.loads(heads.stdout)["environments"]
    assert sorted(environment["heads"]) == [ONE, TWO], heads.stdout
    assert check.returncode == 1 and "RG101" in check.stdout, check.stdout + check.stderr
    assert "--config other.ini" in check.stdout  # the fix command reads the same config
    explicit = gitrepo.run("-c", "alembic.ini", "check", env=with_var)  # -c wins, as for alembic
    assert explicit.returncode == 0, explicit.stdout + explicit.stderr


def test_install_says_when_the_merge_driver_cannot_find_the_lock_s_environment(gitrepo):
    # Review: ALEMBIC_CONFIG=other.ini revgraph install wired a lock file the driver (run
    # by git, without the variable) cannot attribute: every merge changing it conflicts.
    gitrepo.init_env(commit=False)
    ini = gitrepo.read("alembic.ini")
    gitrepo.write("other.ini", ini)
    gitrepo.write("alembic.ini", ini.replace(b"%(here)s/migrations", b"%(here)s/legacy"))
    (gitrepo.path / "legacy" / "versions").mkdir(parents=True)
    gitrepo.add_revision(BASE, None, message="base")
    with_var = _env(ALEMBIC_CONFIG="other.ini")

    warned = gitrepo.run("install", env=with_var, check=True)

    assert "cannot tell which environment migrations/revgraph.lock belongs to" in warned.stderr
    assert '[tool.revgraph.environments] default = { config = "other.ini" }' in warned.stderr
    gitrepo.write("pyproject.toml", '[tool.revgraph.environments]\ndefault = { config = "other.ini" }\n')
    assert "cannot tell" not in gitrepo.run("install", env=with_var, check=True).stderr
