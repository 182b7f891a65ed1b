"""`revgraph install` / `uninstall` in real temporary git repositories, through the real CLI.

What is guarded: idempotence (a second install changes no byte and no config),
exact restoration by uninstall, preservation of the user's files, shell safety
of the merge-driver command for hostile lock paths, and the alembic
post_write_hooks entry working under a real `alembic revision`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.gitrepo import GitRepo, run_module

from revgraph.lockfile import parse_lock

LOCK = "migrations/revgraph.lock"
BASE_ID = "a1a1a1a1a1a1"


# ------------------------------------------------------------------ helpers
@pytest.fixture
def repo(gitrepo):
    """An alembic environment with one revision, committed on main."""
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(BASE_ID, None, message="create users")
    gitrepo.commit("first revision")
    return gitrepo


def _local_config(repo) -> str:
    return repo.git("config", "--local", "--list").stdout


def _git_config_file(repo) -> str:
    return (repo.path / ".git" / "config").read_text(encoding="utf-8")


def _merge_attr(repo, relpath: str) -> str:
    out = repo.git("check-attr", "-z", "merge", "--", relpath).stdout
    return out.split("\0")[2]


def _set_lock_file(repo, relpath: str) -> None:
    """``[tool.revgraph] lock_file`` beside alembic.ini, and its folder."""
    repo.write("pyproject.toml", f"[tool.revgraph]\nlock_file = {json.dumps(relpath)}\n")
    (repo.path / relpath).parent.mkdir(parents=True, exist_ok=True)


def _diverge(repo) -> None:
    """main and feature both add a revision on BASE_ID, each with its lock refreshed."""
    repo.branch("feature")
    repo.add_revision("b2b2b2b2b2b2", BASE_ID, message="main adds orders")
    repo.run("lock", check=True)
    repo.commit("main: orders")
    repo.checkout("feature")
    repo.add_revision("c3c3c3c3c3c3", BASE_ID, message="feature adds invoices")
    repo.run("lock", check=True)
    repo.commit("feature: invoices")
    repo.checkout("main")


def _conflicted(repo) -> list[str]:
    """Unmerged paths, unquoted (``repo.conflicted()`` shows git's C-quoted form)."""
    out = repo.git("diff", "--name-only", "-z", "--diff-filter=U").stdout
    return sorted(p for p in out.split("\0") if p)


def _is_one_insertion(original: str, edited: str) -> bool:
    """``edited`` is ``original`` with one run of lines inserted, every other line untouched."""
    old, new = original.splitlines(keepends=True), edited.splitlines(keepends=True)
    at = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), len(old))
    added = len(new) - len(old)
    return added > 0 and new[:at] == old[:at] and new[at + added:] == old[at:]


def _merge_traced(repo, branch: str):
    """``git merge`` with git's trace2 events: (process, [(driver argv, exit code)])."""
    trace = repo.path.parent / f"trace-{branch}.json"
    env = dict(os.environ if repo.env is None else repo.env, GIT_TRACE2_EVENT=str(trace))
    proc = subprocess.run(
        ["git", "merge", "--no-edit", branch], cwd=repo.path, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )
    events = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    starts = {
        e["child_id"]: e["argv"][0] for e in events
        if e["event"] == "child_start" and "merge-driver" in " ".join(e["argv"])
    }
    runs = [(starts[e["child_id"]], e["code"]) for e in events if e["event"] == "child_exit" and e["child_id"] in starts]
    return proc, runs


def _new_files(folder: Path, before: set[str]) -> list[str]:
    return sorted(p.name for p in folder.glob("*.py") if p.name not in before)


# ----------------------------------------------------------- idempotence
def test_second_install_changes_no_file_and_no_config(repo):
    everything = ("--merge-driver", "--lock", "--pre-commit", "--post-write-hook")
    first = repo.run("install", *everything, check=True)
    assert "merge.revgraph.driver" in first.stdout
    repo.commit("revgraph install")
    config = _local_config(repo)
    config_file = _git_config_file(repo)

    second = repo.run("install", *everything, check=True)

    assert repo.status() == ""
    assert _local_config(repo) == config
    assert _git_config_file(repo) == config_file
    assert "nothing changed" in second.stdout


def test_install_sets_driver_attribute_and_lock(repo):
    repo.run("install", check=True)

    assert repo.git("config", "--local", "merge.revgraph.name").stdout.strip() == "revgraph heads lock"
    driver = repo.git("config", "--local", "merge.revgraph.driver").stdout.strip()
    assert driver.endswith("merge-driver %O %A %B %P %L")
    assert _merge_attr(repo, LOCK) == "revgraph"
    assert parse_lock(repo.read(LOCK).decode()).heads == (BASE_ID,)


def test_dry_run_prints_the_change_and_writes_nothing(repo):
    out = repo.run("install", "--merge-driver", "--pre-commit", "--dry-run", check=True).stdout

    assert "+migrations/revgraph.lock merge=revgraph" in out
    assert "dry run" in out
    assert repo.status() == ""
    assert "revgraph" not in _local_config(repo)


# ------------------------------------------------------------- uninstall
@pytest.mark.parametrize("last_newline", [b"\r\n", b""], ids=["ended", "unended-last-line"])
def test_uninstall_restores_gitattributes_bytes_and_unsets_config(repo, last_newline):
    original = b"# assets\r\n*.png binary\r\n*.sql text eol=lf" + last_newline
    repo.write(".gitattributes", original)
    repo.commit("attributes")
    config_file = _git_config_file(repo)

    repo.run("install", check=True)
    during = repo.read(".gitattributes")
    assert during.startswith(original)  # (an unended last line ended, to append after it)
    assert during.endswith(b"migrations/revgraph.lock merge=revgraph\r\n")
    assert b"\n" not in during.replace(b"\r\n", b"")  # CRLF style kept for our lines

    repo.run("uninstall", check=True)

    assert repo.read(".gitattributes") == original
    assert _git_config_file(repo) == config_file  # keys and the empty [merge "revgraph"] gone
    assert (repo.path / LOCK).is_file()  # the lock stays without --remove-lock


def test_uninstall_removes_every_file_and_section_it_created(repo):
    ini = repo.read("alembic.ini")
    repo.run("install", "--merge-driver", "--lock", "--pre-commit", "--post-write-hook", check=True)
    assert (repo.path / ".gitattributes").is_file()
    assert (repo.path / ".pre-commit-config.yaml").is_file()
    assert b"[post_write_hooks]" in repo.read("alembic.ini")

    repo.run("uninstall", "--remove-lock", check=True)

    assert not (repo.path / ".gitattributes").exists()
    assert not (repo.path / ".pre-commit-config.yaml").exists()
    assert not (repo.path / LOCK).exists()
    assert repo.read("alembic.ini") == ini
    assert repo.status() == ""


def test_uninstall_keeps_user_lines_mentioning_the_driver_elsewhere(repo):
    user = "*.lock merge=revgraph\n"
    repo.write(".gitattributes", user)
    repo.commit("user attributes")

    repo.run("install", check=True)
    repo.run("uninstall", check=True)

    assert repo.read(".gitattributes").decode() == user


# ------------------------------------------------------ hostile lock paths
@pytest.mark.parametrize(
    "lock",
    [
        "locks/$(touch sentinel1);touch sentinel2;`touch sentinel3`&.lock",
        "db migrations/x'$(touch sentinel4)' \"`touch sentinel5`\";touch sentinel6;'.lock",
    ],
    ids=["metacharacters", "spaces-and-quotes"],
)
def test_lock_path_with_spaces_or_shell_metacharacters_merges_and_runs_nothing(repo, tmp_path, lock):
    _set_lock_file(repo, lock)
    repo.commit("lock location")
    install = repo.run("install", check=True)
    assert "warning" not in install.stderr
    repo.commit("revgraph install")
    assert _merge_attr(repo, lock) == "revgraph"
    _diverge(repo)

    proc, runs = _merge_traced(repo, "feature")

    # The driver ran, received the path intact and reported the conflict ...
    assert proc.returncode == 1
    assert _conflicted(repo) == [lock]
    assert [code for _, code in runs] == [1], runs
    assert "c3c3c3c3c3c3" in repo.read(lock).decode()
    # ... and the shell ran nothing from the path.
    assert [p for p in tmp_path.rglob("sentinel*")] == []


# --------------------------------------------------------- pre-commit
def test_pre_commit_entry_is_appended_textually_and_removed_exactly(repo):
    yaml = pytest.importorskip("yaml")
    original = (
        "# shared hooks\n"
        "repos:\n"
        "- repo: https://github.com/pre-commit/pre-commit-hooks\n"
        "  rev: v4.6.0\n"
        "  hooks:\n"
        "  - id: trailing-whitespace   # keep\n"
        "\n"
        "default_stages: [pre-commit]\n"
    )
    repo.write(".pre-commit-config.yaml", original)
    repo.commit("pre-commit")

    repo.run("install", "--pre-commit", check=True)
    edited = repo.read(".pre-commit-config.yaml").decode()
    repo.run("install", "--pre-commit", check=True)

    assert repo.read(".pre-commit-config.yaml").decode() == edited
    assert _is_one_insertion(original, edited)
    data = yaml.safe_load(edited)
    assert data["default_stages"] == ["pre-commit"]
    assert [h["id"] for h in data["repos"][0]["hooks"]] == ["trailing-whitespace"]
    ours = data["repos"][1]
    assert ours["repo"] == "local"
    assert {h["id"]: h["entry"] for h in ours["hooks"]} == {
        "revgraph-lock": "revgraph lock",
        "revgraph-check": "revgraph check -q --select RG101,RG103,RG104,RG105,RG106,RG107,RG401",
    }
    assert all(h["pass_filenames"] is False for h in ours["hooks"])

    repo.run("uninstall", "--pre-commit", check=True)

    assert repo.read(".pre-commit-config.yaml").decode() == original


def test_pre_commit_config_without_a_final_newline_comes_back_byte_for_byte(repo):
    # QA: install ended the last line, and uninstall left that newline.
    yaml = pytest.importorskip("yaml")
    original = "repos:\n  - repo: local\n    hooks:\n      - id: mine\n        name: mine\n" \
               "        entry: echo\n        language: system"  # fmt: skip
    repo.write(".pre-commit-config.yaml", original)
    repo.commit("pre-commit without a final newline")

    repo.run("install", "--pre-commit", check=True)
    edited = repo.read(".pre-commit-config.yaml").decode()
    assert [h["id"] for r in yaml.safe_load(edited)["repos"] for h in r["hooks"]][0] == "mine"
    repo.run("uninstall", "--pre-commit", check=True)

    assert repo.read(".pre-commit-config.yaml").decode() == original


def test_pre_commit_config_with_a_hook_id_that_is_not_a_string_is_no_crash(repo):
    # Review: `- id: [a, b]` crashed install (TypeError: unhashable type: 'list').
    pytest.importorskip("yaml")
    repo.write(".pre-commit-config.yaml", "repos:\n  - repo: local\n    hooks:\n      - id: [a, b]\n"
                                          "        name: odd\n        entry: echo\n        language: system\n")
    repo.commit("an odd hook id")

    done = repo.run("install", "--pre-commit")

    assert done.returncode in (0, 2) and "internal error" not in done.stderr, done.stderr


def test_pre_commit_config_starting_with_a_bom_keeps_its_hooks(repo):
    # QA: the BOM hid `repos:` on the first line; install added a second `repos:` key,
    # and YAML keeps the last: the user's hooks were gone.
    yaml = pytest.importorskip("yaml")
    original = "\ufeffrepos:\n  - repo: local\n    hooks:\n      - id: mine\n        name: mine\n" \
               "        entry: echo\n        language: system\n"  # fmt: skip
    repo.write(".pre-commit-config.yaml", original.encode("utf-8"))
    repo.commit("pre-commit with a BOM")

    repo.run("install", "--pre-commit", check=True)
    edited = repo.read(".pre-commit-config.yaml").decode("utf-8")

    assert edited.count("repos:") == 1
    data = yaml.safe_load(edited.lstrip("\ufeff"))
    assert [h["id"] for r in data["repos"] for h in r["hooks"]] == ["mine", "revgraph-lock", "revgraph-check"]
    repo.run("uninstall", "--pre-commit", check=True)
    assert repo.read(".pre-commit-config.yaml").decode("utf-8") == original


def test_pre_commit_hooks_widen_to_an_environment_added_later_but_keep_a_hand_edited_pattern(repo):
    # QA: hooks installed for one environment; alembic.ini then gains [analytics].
    # `install --pre-commit` said "nothing changed", and the hooks never ran for it.
    yaml = pytest.importorskip("yaml")
    repo.run("install", "--pre-commit", check=True)
    ini = repo.read("alembic.ini").decode()
    repo.write("alembic.ini", ini.replace("[loggers]", "[analytics]\nscript_location = %(here)s/stats\n\n[loggers]", 1))
    repo.write("stats/versions/.keep", "")
    repo.commit("a second environment")

    done = repo.run("install", "--pre-commit", check=True)

    assert "widened the hooks' `files` to every environment's folders" in done.stdout
    hooks = yaml.safe_load(repo.read(".pre-commit-config.yaml"))["repos"][0]["hooks"]
    for hook in hooks:
        assert re.search(hook["files"], "stats/versions/0002_add.py") and re.search(hook["files"], "stats/revgraph.lock")
        assert re.search(hook["files"], "migrations/versions/0001_x.py")
    assert "nothing changed" in repo.run("install", "--pre-commit", check=True).stdout
    # A pattern a person wrote is theirs.
    text = repo.read(".pre-commit-config.yaml").decode()
    mine = re.sub(r"files: .*", "files: '^migrations/'", text)
    repo.write(".pre-commit-config.yaml", mine)
    repo.run("install", "--pre-commit", check=True)
    assert repo.read(".pre-commit-config.yaml").decode() == mine


def test_pre_commit_hooks_of_a_monorepo_s_services_run_at_the_top_and_leave_each_other_alone(gitrepo):
    # pre-commit runs every hook at the top of the work tree: a service's hook
    # must name its folder, and a second service must get hooks of its own.
    import shlex

    from tests.support.revfiles import TEMPLATES

    yaml = pytest.importorskip("yaml")
    services = ("services/api", "services/billing")
    for service in services:
        gitrepo.write(f"{service}/alembic.ini", "[alembic]\nscript_location = %(here)s/migrations\n")
        gitrepo.write(f"{service}/migrations/script.py.mako", TEMPLATES["typed"])
        gitrepo.add_revision(BASE_ID, None, message="create users", versions=f"{service}/migrations/versions")
    gitrepo.commit("two services")
    for service in services:
        gitrepo.run("-C", str(gitrepo.path / service), "install", "--pre-commit", check=True)
    config = yaml.safe_load(gitrepo.read(".pre-commit-config.yaml"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert set(hooks) == {f"revgraph-{what}-services-{name}" for what in ("lock", "check") for name in ("api", "billing")}
    for hook in hooks.values():
        service = "services/api" if hook["id"].endswith("api") else "services/billing"
        assert hook["entry"].startswith(f"revgraph -C {service} ")
        run = run_module("revgraph", *shlex.split(hook["entry"])[1:], cwd=gitrepo.path, env=gitrepo.env)
        assert run.returncode == 0, (hook["id"], run.stderr)
    gitrepo.run("-C", str(gitrepo.path / services[1]), "uninstall", "--pre-commit", check=True)
    left = yaml.safe_load(gitrepo.read(".pre-commit-config.yaml"))
    assert {hook["id"] for repo in left["repos"] for hook in repo["hooks"]} == {
        "revgraph-lock-services-api", "revgraph-check-services-api"}  # fmt: skip
    gitrepo.run("-C", str(gitrepo.path / services[0]), "uninstall", "--pre-commit", check=True)
    assert not (gitrepo.path / ".pre-commit-config.yaml").exists()


_NO_FINAL_NEWLINE = "repos:\n  - repo: local\n    hooks:\n      - id: mine\n        name: mine\n" \
                    "        entry: echo\n        language: system"  # fmt: skip


@pytest.mark.parametrize("first_out", [0, 1])
@pytest.mark.parametrize("original", [_NO_FINAL_NEWLINE, None], ids=["no final newline", "no file"])
def test_two_services_pre_commit_hooks_uninstalled_in_either_order_leave_the_file_as_it_was(
    gitrepo, original, first_out
):
    # Only the first service's entry recorded what its install did to the file: that it
    # ended the last line (follow-up of stop 38: the newline stayed) or created the file
    # (review: a file holding `repos:` only stayed). Uninstalling that service first lost it.
    if original is not None:
        gitrepo.write(".pre-commit-config.yaml", original)
    services = ("services/api", "services/billing")
    for service in services:
        _service(gitrepo, service)
    gitrepo.commit("two services")
    for service in services:
        gitrepo.run("-C", str(gitrepo.path / service), "install", "--pre-commit", check=True)

    for service in (services[first_out], services[1 - first_out]):
        gitrepo.run("-C", str(gitrepo.path / service), "uninstall", "--pre-commit", check=True)

    if original is None:
        assert not (gitrepo.path / ".pre-commit-config.yaml").exists()
    else:
        assert gitrepo.read(".pre-commit-config.yaml").decode() == original


# What `revgraph install --pre-commit` wrote in services/api before hooks had -C
# (run verbatim from commit e2d91b6): plain ids, failing at the top.
LEGACY_SERVICE_HOOKS = """\
repos:
  # revgraph: heads lock hooks (file created by `revgraph install`)
  - repo: local
    hooks:
      - id: revgraph-lock
        name: revgraph lock (the heads lock file is current)
        entry: revgraph lock
        language: system
        pass_filenames: false
        files: '^(services/api/migrations/versions/.*\\.py|services/api/migrations/revgraph\\.lock)$'
      - id: revgraph-check
        name: revgraph check (one head, readable revisions, current lock)
        entry: revgraph check --select RG1,RG4
        language: system
        pass_filenames: false
        files: '^(services/api/migrations/versions/.*\\.py|services/api/migrations/revgraph\\.lock)$'
"""


def _service(gitrepo, at: str = "services/api") -> None:
    from tests.support.revfiles import TEMPLATES

    gitrepo.write(f"{at}/alembic.ini", "[alembic]\nscript_location = %(here)s/migrations\n")
    gitrepo.write(f"{at}/migrations/script.py.mako", TEMPLATES["typed"])
    gitrepo.add_revision(BASE_ID, None, message="create users", versions=f"{at}/migrations/versions")


def _run_hooks_at_the_top(gitrepo, hooks) -> None:
    """Each hook's entry, run where pre-commit runs it."""
    import shlex

    for hook in hooks:
        run = run_module("revgraph", *shlex.split(hook["entry"])[1:], cwd=gitrepo.path, env=gitrepo.env)
        assert run.returncode == 0, (hook["id"], run.stderr)


def test_a_moved_lock_file_takes_its_driver_line_along_and_leaves_another_service_s(gitrepo):
    # Two services share the top .gitattributes; api's lock_file changes. The old
    # line would keep the driver on a file no environment owns (every merge of it a
    # conflict); billing's line is not api's to remove.
    for at in ("services/api", "services/billing"):
        _service(gitrepo, at)
    gitrepo.commit("two services")
    for at in ("services/api", "services/billing"):
        gitrepo.run("-C", str(gitrepo.path / at), "install", check=True)
    gitrepo.commit("install")
    gitrepo.write("services/api/pyproject.toml", '[tool.revgraph]\nlock_file = "migrations/heads.lock"\n')

    again = gitrepo.run("-C", str(gitrepo.path / "services/api"), "install", check=True)

    lines = gitrepo.read(".gitattributes").decode().splitlines()
    assert "services/api/migrations/heads.lock merge=revgraph" in lines
    assert "services/api/migrations/revgraph.lock merge=revgraph" not in lines
    assert "services/billing/migrations/revgraph.lock merge=revgraph" in lines
    assert "removed `services/api/migrations/revgraph.lock merge=revgraph`" in again.stdout
    assert "git rm services/api/migrations/revgraph.lock" in again.stderr
    assert _merge_attr(gitrepo, "services/billing/migrations/revgraph.lock") == "revgraph"
    second = gitrepo.run("-C", str(gitrepo.path / "services/api"), "install", check=True)
    assert "nothing changed" in second.stdout


def test_install_in_a_service_replaces_the_plain_hooks_an_older_revgraph_wrote_for_it(gitrepo):
    yaml = pytest.importorskip("yaml")
    _service(gitrepo)
    gitrepo.write(".pre-commit-config.yaml", LEGACY_SERVICE_HOOKS)
    gitrepo.commit("a service and its old hooks")

    done = gitrepo.run("-C", str(gitrepo.path / "services/api"), "install", "--pre-commit", check=True)

    assert "older revgraph wrote for services/api" in done.stdout, done.stdout
    hooks = [hook for repo in yaml.safe_load(gitrepo.read(".pre-commit-config.yaml"))["repos"] for hook in repo["hooks"]]
    assert sorted(h["id"] for h in hooks) == ["revgraph-check-services-api", "revgraph-lock-services-api"]
    _run_hooks_at_the_top(gitrepo, hooks)
    again = gitrepo.run("-C", str(gitrepo.path / "services/api"), "install", "--pre-commit", check=True)
    assert "nothing changed" in again.stdout, again.stdout


def test_install_in_a_service_keeps_the_plain_hooks_of_a_project_at_the_top(gitrepo):
    # The top's plain pair works there: its files pattern names its own folders.
    yaml = pytest.importorskip("yaml")
    gitrepo.init_env()
    gitrepo.add_revision(BASE_ID, None, message="create users")
    _service(gitrepo)
    gitrepo.commit("a project at the top and a service")
    gitrepo.run("install", "--pre-commit", check=True)
    top = gitrepo.read(".pre-commit-config.yaml").decode()

    done = gitrepo.run("-C", str(gitrepo.path / "services/api"), "install", "--pre-commit", check=True)

    assert "older revgraph" not in done.stdout, done.stdout
    now = gitrepo.read(".pre-commit-config.yaml").decode()
    assert now.startswith(top)
    hooks = [hook for repo in yaml.safe_load(now)["repos"] for hook in repo["hooks"]]
    assert len(hooks) == 4
    _run_hooks_at_the_top(gitrepo, hooks)


def test_uninstall_in_a_service_also_removes_its_old_plain_hooks(gitrepo):
    _service(gitrepo)
    gitrepo.write(".pre-commit-config.yaml", LEGACY_SERVICE_HOOKS)
    gitrepo.commit("a service and its old hooks")

    gitrepo.run("-C", str(gitrepo.path / "services/api"), "uninstall", "--pre-commit", check=True)

    assert not (gitrepo.path / ".pre-commit-config.yaml").exists()


def test_published_pre_commit_hooks_file_declares_both_hooks():
    yaml = pytest.importorskip("yaml")
    root = Path(__file__).resolve().parents[2]
    hooks = {h["id"]: h for h in yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())}

    assert hooks["revgraph-lock"]["entry"] == "revgraph lock"
    assert hooks["revgraph-check"]["entry"] == "revgraph check -q --select RG101,RG103,RG104,RG105,RG106,RG107,RG401"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False


# ------------------------------------------------------ post_write_hooks
def test_a_post_write_hook_that_cannot_be_added_is_not_called_installed(repo):
    # QA: with --versions (no alembic.ini to hold the hook) it warned, then said
    # "already installed: nothing changed".
    done = repo.run("--versions", "migrations/versions", "install", "--post-write-hook")

    assert "no post_write_hooks entry added" in done.stderr, done.stderr
    assert "already installed" not in done.stdout and "nothing changed" in done.stdout, done.stdout


def test_post_write_hook_adds_new_revision_to_lock_under_real_alembic(repo):
    repo.run("install", "--lock", "--post-write-hook", check=True)
    repo.commit("revgraph install")
    versions = repo.path / "migrations" / "versions"
    before = {p.name for p in versions.glob("*.py")}

    proc = repo.alembic("revision", "-m", "add orders")

    created = _new_files(versions, before)
    assert len(created) == 1, proc.stdout + proc.stderr
    new_id = created[0].split("_", 1)[0]
    assert parse_lock(repo.read(LOCK).decode()).heads == (new_id,)


def with_own_hook(repo, after: str = "") -> str:
    """alembic.ini with a hook of the project's own (then ``after``), committed; its text."""
    original = repo.read("alembic.ini").decode() + (
        "\n[post_write_hooks]\n"
        "# touch a marker file, to show this hook still runs\n"
        "hooks = marker\n"
        "marker.type = exec\n"
        "marker.executable = touch\n"
        "marker.options = marker-ran.txt\n"
    ) + after
    repo.write("alembic.ini", original)
    repo.commit("own hook")
    return original


def test_post_write_hook_joins_existing_hooks_and_uninstall_restores_ini(repo):
    original = with_own_hook(repo)

    repo.run("install", "--lock", "--post-write-hook", check=True)
    assert "hooks = marker, revgraph_lock\n" in repo.read("alembic.ini").decode()
    versions = repo.path / "migrations" / "versions"
    before = {p.name for p in versions.glob("*.py")}
    repo.alembic("revision", "-m", "add orders")

    new_id = _new_files(versions, before)[0].split("_", 1)[0]
    assert (repo.path / "marker-ran.txt").exists()
    assert parse_lock(repo.read(LOCK).decode()).heads == (new_id,)

    repo.run("uninstall", "--post-write-hook", check=True)

    assert repo.read("alembic.ini").decode() == original


def test_post_write_hook_keys_stay_above_the_next_section_s_heading_comment(repo):
    # dagster's alembic.ini: [post_write_hooks] then "# Logging configuration" over
    # [loggers]; the keys went between that comment and its header.
    original = with_own_hook(repo, after="\n# Settings of our own tooling\n[our_tooling]\nanswer = 42\n")
    repo.run("install", "--lock", "--post-write-hook", check=True)
    text = repo.read("alembic.ini").decode()
    assert (
        "marker.options = marker-ran.txt\n"
        "# revgraph: keeps the heads lock current (added by `revgraph install`)\n"
        "revgraph_lock.type = console_scripts\n"
        "revgraph_lock.entrypoint = revgraph-post-write\n"
        "\n"
        "# Settings of our own tooling\n"
        "[our_tooling]\n"
    ) in text, text
    repo.run("uninstall", "--post-write-hook", check=True)
    assert repo.read("alembic.ini").decode() == original


def test_post_write_hook_warns_and_exits_zero_outside_any_environment(repo, tmp_path):
    stray = tmp_path / "elsewhere" / "0001_x.py"
    stray.parent.mkdir()
    stray.write_text('revision = "x"\ndown_revision = None\n')

    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from revgraph.commands.post_write import post_write_hook; sys.exit(post_write_hook())", str(stray)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )

    assert proc.returncode == 0
    assert "warning" in proc.stderr
    assert "revgraph lock" in proc.stderr


def test_post_write_hook_goes_to_pyproject_when_alembic_is_configured_there(gitrepo):
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    gitrepo.alembic("init", "--template", "pyproject", "migrations")
    original = gitrepo.read("pyproject.toml")
    gitrepo.commit("alembic init --template pyproject")
    ini = gitrepo.read("alembic.ini")

    gitrepo.run("install", "--lock", "--post-write-hook", check=True)

    assert gitrepo.read("alembic.ini") == ini
    hooks = tomllib.loads(gitrepo.read("pyproject.toml").decode())["tool"]["alembic"]["post_write_hooks"]
    assert hooks == [{"name": "revgraph_lock", "type": "console_scripts", "entrypoint": "revgraph-post-write"}]
    versions = gitrepo.path / "migrations" / "versions"
    gitrepo.alembic("revision", "-m", "add orders")
    new_id = _new_files(versions, set())[0].split("_", 1)[0]
    assert parse_lock(gitrepo.read(LOCK).decode()).heads == (new_id,)

    gitrepo.run("uninstall", "--post-write-hook", check=True)

    assert gitrepo.read("pyproject.toml") == original


def test_the_next_step_names_the_files_this_install_wrote(repo):
    hooks = repo.run("install", "--pre-commit", check=True).stdout
    assert hooks.rstrip().splitlines()[-1].startswith("next: commit .pre-commit-config.yaml;"), hooks
    default = repo.run("install", check=True).stdout
    last = default.rstrip().splitlines()[-1]
    assert last.startswith("next: commit .gitattributes, ") and "revgraph.lock" in last
    assert "every other clone runs `revgraph install` once" in last


# ------------------------------------------------------- doctor's setup notes
def test_doctor_tells_a_fresh_clone_that_it_has_no_merge_driver_and_install_ends_it(repo, tmp_path):
    # git config is not versioned: a teammate's clone has .gitattributes naming the
    # driver but no merge.revgraph.driver, and git merges the lock as plain text there.
    repo.run("install", check=True)
    repo.commit("revgraph install")
    clone = repo.clone(tmp_path / "teammate")
    assert clone.git("config", "--get", "merge.revgraph.driver", check=None).returncode == 1

    said = clone.run("doctor", check=True).stdout
    assert f"setup: .gitattributes asks for revgraph's merge driver on {LOCK}, but this clone has none" in said
    assert "Run `revgraph install` once in this clone." in said
    # What the note says happens: a plain text conflict, the driver never runs.
    _diverge(clone)
    proc, runs = _merge_traced(clone, "feature")
    assert proc.returncode != 0 and runs == [] and "<<<<<<<" in clone.read(LOCK).decode()
    clone.git("merge", "--abort")

    clone.run("install", check=True)
    assert "setup:" not in clone.run("doctor", check=True).stdout
    # Reports for machines and the CI gate say nothing of it.
    assert "setup:" not in clone.run("doctor", "--format", "json", check=True).stdout
    assert "setup:" not in clone.run("check", check=True).stdout


def test_doctor_tells_when_the_merge_driver_s_program_is_gone(repo):
    repo.run("install", check=True)
    repo.git("config", "merge.revgraph.driver", "/gone/venv/bin/revgraph merge-driver %O %A %B %P %L")

    said = repo.run("doctor", check=True).stdout

    assert f"setup: the merge driver for {LOCK} runs /gone/venv/bin/revgraph, which is not there any more" in said


def test_install_refuses_a_gitattributes_that_is_a_symbolic_link(repo):
    # QA: install wrote its line where the link leads and exited 0; git (2.32+) does not
    # read a .gitattributes that is a symbolic link, so the driver never ran.
    repo.write("attrs.txt", "*.png binary\n")
    (repo.path / ".gitattributes").symlink_to("attrs.txt")

    done = repo.run("install")

    assert done.returncode == 2, done.stdout + done.stderr
    assert ".gitattributes is a symbolic link, which git does not read" in done.stderr
    assert repo.read("attrs.txt") == b"*.png binary\n"
    assert not (repo.path / LOCK).exists()  # all or nothing


def test_uninstall_leaves_a_gitattributes_the_user_made_a_symbolic_link(repo):
    # Review: uninstall deleted the user's link (revgraph had created the file) and left
    # its lines in the file the link leads to.
    repo.run("install", check=True)
    lines = repo.read(".gitattributes")
    (repo.path / ".gitattributes").unlink()
    repo.write("attrs.txt", lines)
    (repo.path / ".gitattributes").symlink_to("attrs.txt")

    done = repo.run("uninstall", check=True)

    assert (repo.path / ".gitattributes").is_symlink() and repo.read("attrs.txt") == lines
    assert ".gitattributes is a symbolic link, which revgraph leaves as it is" in done.stderr
    assert "merge=revgraph" in done.stderr
    # Review: a second warning read the lines through the link and called revgraph's
    # own line "not the line revgraph wrote", and said git merges with it (git reads no link).
    assert done.stderr.count("warning:") == 1, done.stderr
    assert repo.git("config", "--get", "merge.revgraph.driver", check=None).returncode == 1  # the rest is undone


def test_uninstall_names_no_lines_a_symlinked_gitattributes_does_not_hold(repo):
    # Review: the warning named revgraph's line though the file the link leads to never had it.
    repo.write("attrs.txt", "*.png binary\n")
    (repo.path / ".gitattributes").symlink_to("attrs.txt")

    done = repo.run("uninstall", check=True)

    assert "symbolic link" not in done.stderr and "merge=revgraph" not in done.stderr
    assert repo.read("attrs.txt") == b"*.png binary\n"


def test_doctor_tells_when_the_driver_name_runs_another_program_and_install_ends_it(repo):
    # QA: merge.revgraph.driver = true passed doctor in silence.
    repo.run("install", check=True)
    repo.git("config", "merge.revgraph.driver", "true")

    said = repo.run("doctor", check=True).stdout

    assert f"setup: the merge driver for {LOCK} runs `true`, not revgraph's merge driver" in said
    repo.run("install", check=True)
    assert "setup:" not in repo.run("doctor", check=True).stdout


def test_a_worktree_s_own_config_overriding_the_driver_is_said_by_install_and_doctor(repo, tmp_path):
    # QA: with extensions.worktreeConfig and `git config --worktree merge.revgraph.driver
    # true`, install said "already installed" and doctor "All good"; two branches that
    # each add a revision then merged into two heads in that worktree.
    repo.run("install", check=True)
    repo.commit("revgraph install")
    repo.git("worktree", "add", "-q", str(tmp_path / "side"), "-b", "side")
    side = GitRepo(tmp_path / "side", repo.env)
    side.git("config", "extensions.worktreeConfig", "true")
    side.git("config", "--worktree", "merge.revgraph.driver", "true")

    install = side.run("install", check=True)
    said = side.run("doctor", check=True).stdout

    assert "config.worktree sets merge.revgraph.driver = true, which overrides revgraph's" in install.stderr
    assert "already installed" not in install.stdout
    assert f"setup: the merge driver for {LOCK} is not revgraph's here" in said
    assert "git config --worktree --unset merge.revgraph.driver" in said
    side.git("config", "--worktree", "--unset", "merge.revgraph.driver")
    assert "setup:" not in side.run("doctor", check=True).stdout
    # revgraph's own driver set for the worktree alone is no override to warn of.
    ours = side.git("config", "--get", "merge.revgraph.driver").stdout.strip()
    side.git("config", "--worktree", "merge.revgraph.driver", ours)
    assert "overrides" not in side.run("install", check=True).stderr
    assert "setup:" not in side.run("doctor", check=True).stdout


@pytest.mark.parametrize("scope", ["an included file", "the worktree's config"])
def test_a_stale_revgraph_driver_set_later_is_said_by_install_and_doctor_alike(repo, tmp_path, scope):
    # A tester: a team's shared config, included after revgraph's line, named an old
    # virtualenv's revgraph. install said "already installed", doctor said "run
    # revgraph install again": a loop, and every lock merge failed ("not found").
    repo.run("install", check=True)
    stale = "/old/venv/bin/revgraph merge-driver %O %A %B %P"
    if scope == "an included file":
        shared = tmp_path / "shared.gitconfig"
        shared.write_text(f'[merge "revgraph"]\n\tdriver = {stale}\n')
        repo.git("config", "--add", "include.path", str(shared))
        where, remedy = str(shared), "remove it from that file"
    else:
        repo.git("config", "extensions.worktreeConfig", "true")
        repo.git("config", "--worktree", "merge.revgraph.driver", stale)
        where, remedy = "config.worktree", "git config --worktree --unset merge.revgraph.driver"

    install = repo.run("install", check=True)
    said = repo.run("doctor", check=True).stdout

    assert f"sets merge.revgraph.driver = {stale}, which overrides revgraph's" in install.stderr
    assert where in install.stderr and remedy in install.stderr
    assert f"setup: the merge driver for {LOCK} is not revgraph's here" in said and remedy in said
    assert "Run `revgraph install` again" not in said


def test_doctor_tells_when_a_sub_folder_s_gitattributes_takes_the_driver_away(repo):
    repo.run("install", check=True)
    assert "merge=revgraph" not in repo.run("doctor", check=True).stdout
    repo.write("migrations/.gitattributes", "revgraph.lock merge=union\n")

    said = repo.run("doctor", check=True).stdout

    assert f"setup: the top .gitattributes gives {LOCK} merge=revgraph, but git says `merge: union`" in said


def test_doctor_says_nothing_of_the_driver_where_none_was_asked_for(repo):
    repo.run("lock", check=True)  # a lock file, but no .gitattributes line: nothing promised
    assert "setup:" not in repo.run("doctor", check=True).stdout


def test_the_check_hook_does_not_block_a_commit_that_only_a_merge_of_base_could_fix(repo):
    # QA on superset: main gained a revision on the branch's parent, and the first
    # commit of the branch's own revision was blocked by RG102 ("git merge main;
    # revgraph fix"), which git refuses while work is staged. The hook judges the
    # commit itself, silently when it passes; CI's check still reports RG102.
    from revgraph.gitops.install import CHECK_HOOK_ARGS

    repo.branch("feature")
    repo.add_revision("b1b1b1b1b1b1", BASE_ID, message="landed on main")
    repo.commit("main moves on")
    repo.checkout("feature")
    repo.add_revision("f1f1f1f1f1f1", BASE_ID, message="mine")
    assert repo.run("lock").returncode == 0
    repo.git("add", "-A")  # staged, as pre-commit sees it

    hook = repo.run(*CHECK_HOOK_ARGS.split())
    assert (hook.returncode, hook.stdout) == (0, ""), hook
    assert "RG102" in repo.run("check").stdout  # what CI says
    repo.add_revision("f2f2f2f2f2f2", BASE_ID, message="a second head of my own")
    hook = repo.run(*CHECK_HOOK_ARGS.split())
    assert hook.returncode == 1 and "RG101" in hook.stdout and "RG102" not in hook.stdout


def test_install_brings_the_check_hook_an_older_revgraph_wrote_up_to_date(repo):
    yaml = pytest.importorskip("yaml")
    from revgraph.gitops.install import CHECK_HOOK_ARGS

    repo.run("install", "--pre-commit", check=True)
    current = repo.read(".pre-commit-config.yaml").decode()
    repo.write(".pre-commit-config.yaml", current.replace(CHECK_HOOK_ARGS, "check --select RG1,RG4"))

    done = repo.run("install", "--pre-commit", check=True)
    assert "the check hook now runs" in done.stdout
    assert repo.read(".pre-commit-config.yaml").decode() == current
    # An entry a person wrote stays theirs.
    mine = current.replace(CHECK_HOOK_ARGS, "check --select RG1")
    repo.write(".pre-commit-config.yaml", mine)
    repo.run("install", "--pre-commit", check=True)
    assert repo.read(".pre-commit-config.yaml").decode() == mine
    hooks = {h["id"]: h for h in yaml.safe_load(mine)["repos"][-1]["hooks"]}
    assert hooks["revgraph-check"]["entry"] == "revgraph check --select RG1"


def test_install_pre_commit_says_each_clone_runs_pre_commit_install(repo):
    done = repo.run("install", "--pre-commit", check=True)
    assert "run `pre-commit install` in each clone" in done.stdout
    again = repo.run("install", "--pre-commit", check=True)
    assert "pre-commit install" not in again.stdout  # nothing was added


def test_uninstall_in_one_service_leaves_the_other_services_driver(gitrepo):
    # A tester: install in services/api and services/billing, then uninstall in api:
    # the whole .gitattributes went ("revgraph had created it"), with billing's line,
    # and the shared merge.revgraph.* config too; billing's lock merged as plain text.
    for service in ("api", "billing"):
        gitrepo.write(f"services/{service}/alembic.ini", "[alembic]\nscript_location = %(here)s/migrations\n")
        gitrepo.add_revision(BASE_ID, None, message="first", versions=f"services/{service}/migrations/versions")
    gitrepo.commit("two services")
    for service in ("api", "billing"):
        run_module("revgraph", "-C", gitrepo.path / "services" / service, "install", check=True)
    billing = "services/billing/migrations/revgraph.lock"

    done = run_module("revgraph", "-C", gitrepo.path / "services" / "api", "uninstall", check=True)

    assert _merge_attr(gitrepo, billing) == "revgraph"
    assert _merge_attr(gitrepo, "services/api/migrations/revgraph.lock") == "unspecified"
    assert "merge.revgraph.driver" in _local_config(gitrepo)
    assert f"kept merge.revgraph.*: {billing} still use it" in done.stdout
    assert "warning" not in done.stderr
    run_module("revgraph", "-C", gitrepo.path / "services" / "billing", "uninstall", check=True)
    assert not (gitrepo.path / ".gitattributes").exists()  # the last one out removes what install created
    assert "merge.revgraph" not in _local_config(gitrepo)


def test_uninstall_never_leaves_a_bare_repos_key_and_install_takes_an_empty_list(repo):
    # A tester: install created .pre-commit-config.yaml, the user added a key, and
    # uninstall left `repos:` (null), which pre-commit rejects; and `repos: []`, the
    # usual empty config, was refused as "flow style".
    import yaml

    config = repo.path / ".pre-commit-config.yaml"
    repo.run("install", "--pre-commit", check=True)
    config.write_text("default_stages: [pre-commit]\n" + config.read_text())
    repo.run("uninstall", "--pre-commit", check=True)
    assert yaml.safe_load(config.read_text()) == {"default_stages": ["pre-commit"], "repos": []}

    config.write_text("repos: []\n")
    repo.run("install", "--pre-commit", check=True)
    hooks = [h["id"] for r in yaml.safe_load(config.read_text())["repos"] for h in r["hooks"]]
    assert hooks and all(h.startswith("revgraph") for h in hooks)
    repo.run("uninstall", "--pre-commit", check=True)
    assert config.read_text() == "repos: []\n"


def test_the_next_step_names_the_files_from_the_folder_install_ran_in(gitrepo):
    # A project in backend/ (found from there, as getting-started says): install
    # printed `next: commit .gitattributes, backend/migrations/revgraph.lock`,
    # paths from the top, so `git add` of them in backend/ named nothing
    # ("pathspec '.gitattributes' did not match any files").
    from tests.support.gitrepo import run_alembic

    backend = gitrepo.path / "backend"
    backend.mkdir()
    run_alembic(backend, "init", "migrations", env=gitrepo.env)
    run_alembic(backend, "revision", "-m", "create users", env=gitrepo.env)
    gitrepo.commit("backend project")

    out = run_module("revgraph", "install", cwd=backend, env=gitrepo.env, check=True).stdout
    last = out.rstrip().splitlines()[-1]
    files = re.match(r"next: commit (.*?);", last).group(1).split(", ")
    assert files == ["../.gitattributes", "migrations/revgraph.lock"], last
    subprocess.run(["git", "add", "--", *files], cwd=backend, env=gitrepo.env, check=True)
    staged = gitrepo.git("diff", "--cached", "--name-only").stdout.split()
    assert sorted(staged) == [".gitattributes", "backend/migrations/revgraph.lock"]


def test_a_merge_revision_does_not_ask_to_run_revgraphs_own_post_write_hook(gitrepo):
    # `fix --strategy merge` noted "post_write_hooks (revgraph_lock) were not run;
    # run them on the new file" after `install --post-write-hook`: that hook only
    # refreshes the lock file, which fix rewrote in the same step, so the note sent
    # a newcomer to run a command with nothing left to do. Other hooks still count.
    gitrepo.alembic("init", "migrations")
    gitrepo.alembic("revision", "-m", "create users", "--rev-id", "a0a0a0a0a0a0")
    gitrepo.commit("alembic init")
    gitrepo.run("install", "--lock", "--post-write-hook", check=True)
    gitrepo.commit("revgraph install")
    gitrepo.branch("feature")
    gitrepo.alembic("revision", "-m", "add orders", "--head", "a0a0a0a0a0a0", "--splice")
    gitrepo.alembic("revision", "-m", "add invoices", "--head", "a0a0a0a0a0a0", "--splice")

    only_ours = gitrepo.run("fix", "--strategy", "merge", "-m", "merge heads", check=True)
    assert "post_write_hooks" not in only_ours.stdout + only_ours.stderr
    assert gitrepo.alembic("heads").stdout.count("(head)") == 1

    ini = gitrepo.read("alembic.ini").decode()
    gitrepo.write("alembic.ini", ini.replace("hooks = revgraph_lock", "hooks = fmt, revgraph_lock\nfmt.type = exec\nfmt.executable = true"))
    gitrepo.alembic("revision", "-m", "add labels", "--head", "a0a0a0a0a0a0", "--splice")
    with_fmt = gitrepo.run("fix", "--strategy", "merge", "-m", "merge again", check=True)
    assert "post_write_hooks (fmt) were not run" in with_fmt.stdout + with_fmt.stderr
