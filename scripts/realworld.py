"""revgraph against alembic on real migration histories shipped in PyPI wheels.

    python scripts/realworld.py                 # every project below
    python scripts/realworld.py superset neutron
    python scripts/realworld.py --keep /tmp/rw  # keep the downloads for another run
    python scripts/realworld.py --releases      # also Airflow's history, release by release

The generated repositories of the tests and the benchmark follow alembic's
template; real projects do not always (OpenStack's constants for branch
labels, dated file templates, hand-edited docstrings, 12 years of history).
For each project this downloads its wheel (``pip download --no-deps``, no
install, nothing imported), points a throwaway alembic.ini at its versions
folder and prints, side by side:

* alembic's heads, bases and revision count (``ScriptDirectory``), and
  revgraph's (``heads --json``): a difference is a bug of revgraph's;
* what ``revgraph check`` finds there, by rule;
* the race this tool exists for, rehearsed on that history in a real git
  repository through the real CLI: two branches add a revision on one head,
  one lands, ``check`` on the other predicts RG102, and after ``git merge``
  ``fix`` re-points only the branch's revision, leaving as many heads as
  before; then again with ``revgraph install`` done, where git itself must
  stop the merge at the heads lock file;
* ``fix --strategy merge`` with the project's own ``script.py.mako``, against
  ``alembic merge`` on the same files: the same path and the same bytes but
  for the Create Date (or, for a template that cannot write a merge, such as
  airflow's quoted ``${down_revision}``, a refusal where alembic's file names
  no head).

alembic imports every revision file, and these import their own packages
(airflow, superset, oslo...), which are not installed. So alembic reads a
copy of each file that keeps only its module-level ``revision``,
``down_revision``, ``branch_labels`` and ``depends_on`` assignments, cut out
with ``ast`` (not with revgraph's reader). A file where one of those is not a
literal cannot be copied that way: such a project (neutron) is not compared,
only checked.

Needs the network (PyPI) and takes a minute or two; not part of the test
suite.
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# project -> (PyPI name, versions folder inside the wheel, recursive_version_locations)
PROJECTS = {
    "airflow": ("apache-airflow-core", "airflow/migrations/versions", False),
    "superset": ("apache-superset", "superset/migrations/versions", False),
    "dagster": ("dagster", "dagster/_core/storage/alembic/versions", False),
    "mlflow": ("mlflow", "mlflow/store/db_migrations/versions", False),
    "optuna": ("optuna", "optuna/storages/_rdb/alembic/versions", False),
    "prefect": ("prefect", "prefect/server/database/_migrations/versions/postgresql", False),
    "zenml": ("zenml", "zenml/zen_stores/migrations/versions", False),
    "ironic": ("ironic", "ironic/db/sqlalchemy/alembic/versions", False),
    "octavia": ("octavia", "octavia/db/migration/alembic_migrations/versions", False),
    "nova": ("nova", "nova/db/main/migrations/versions", False),
    "keystone": ("keystone", "keystone/common/sql/migrations/versions", True),
    "neutron": ("neutron", "neutron/db/migration/alembic_migrations/versions", True),
}
KEYS = {"revision", "down_revision", "branch_labels", "depends_on"}

ALEMBIC_SIDE = """
import json, sys
sys.dont_write_bytecode = True
from alembic.config import Config
from alembic.script import ScriptDirectory
script = ScriptDirectory.from_config(Config(sys.argv[1]))
print(json.dumps({"heads": sorted(script.get_heads()), "bases": sorted(script.get_bases()),
                  "revisions": sum(1 for _ in script.walk_revisions())}))
"""


def download(project: str, into: Path, version: str | None = None) -> Path | None:
    pattern = f"{project.replace('-', '_')}-{version or '*'}-*.whl"
    wheels = sorted(into.glob(pattern))
    if not wheels:
        wanted = f"{project}=={version}" if version else project
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", wanted, "-d", str(into)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            print(f"  cannot download {wanted}: {done.stderr.strip().splitlines()[-1:]}")
            return None
        wheels = sorted(into.glob(pattern))
    return wheels[-1] if wheels else None


def extract(wheel: Path, folder: str, into: Path) -> Path:
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(folder + "/") and name.endswith(".py"):
                archive.extract(name, into)
    return into / folder


def extract_template(wheel: Path, folder: str, into: Path) -> Path | None:
    """The environment's script.py.mako: beside the versions folder, or above it
    (prefect keeps one folder per dialect below ``versions``). None when the wheel has none."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        parts = folder.split("/")
        for depth in range(len(parts) - 1, 0, -1):
            name = "/".join(parts[:depth]) + "/script.py.mako"
            if name in names:
                archive.extract(name, into)
                return into / name
    return None


def identifiers_only(versions: Path, into: Path) -> bool:
    """Copy each revision file keeping only its identifier assignments; False if one was not literal."""
    complete = True
    for path in sorted(versions.rglob("*.py")):
        try:
            tree = ast.parse(path.read_bytes())
        except SyntaxError:
            complete = False
            continue
        kept = []
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            if not {t.id for t in targets if isinstance(t, ast.Name)} & KEYS:
                continue
            try:
                ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError):
                complete = False
                break
            kept.append(ast.Assign([ast.Name(t.id, ast.Store()) for t in targets], node.value, lineno=0))
        else:
            out = into / path.relative_to(versions)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(ast.unparse(ast.Module(kept, [])) + "\n")
    return complete


def ini(path: Path, script_location: Path, versions: Path, recursive: bool) -> Path:
    path.write_text(
        f"[alembic]\nscript_location = {script_location}\nversion_locations = {versions}\npath_separator = os\n"
        + ("recursive_version_locations = true\n" if recursive else "")
    )
    return path


def revgraph(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "revgraph", *args], cwd=cwd, capture_output=True, text=True, check=False)


REVISION = """\"\"\"{message}

Revision ID: {rev}
Revises: {down}
Create Date: 2026-11-27 10:00:00.000000

\"\"\"
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("{table}", sa.Column("{column}", sa.Text()))


def downgrade():
    op.drop_column("{table}", "{column}")
"""


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "rehearsal", "GIT_AUTHOR_EMAIL": "r@example.com",
           "GIT_COMMITTER_NAME": "rehearsal", "GIT_COMMITTER_EMAIL": "r@example.com"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def history_repo(repo: Path, versions: Path, recursive: bool) -> Path:
    """A new git repository holding ``versions`` as ``migrations/versions`` and an alembic.ini."""
    shutil.rmtree(repo, ignore_errors=True)  # a kept folder from an earlier run
    shutil.copytree(versions, repo / "migrations" / "versions")
    (repo / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\npath_separator = os\n"
        + ("recursive_version_locations = true\n" if recursive else "")
    )
    git("init", "-q", "-b", "main", cwd=repo)
    return repo


def heads_of(repo: Path) -> list[str]:
    return json.loads(revgraph("heads", "--json", cwd=repo).stdout)["environments"][0]["heads"]


def land_one_of_two(repo: Path, head: str, landed: str, mine: str, *, lock: bool = False) -> None:
    """Branches ``landed`` and ``mine`` each add a revision on ``head`` (refreshing the
    lock, as a pre-commit hook would, with ``lock``); the first lands on main; the
    second is checked out."""
    folder = repo / "migrations" / "versions"
    for branch, rev in (("landed", landed), ("mine", mine)):
        git("checkout", "-q", "-b", branch, "main", cwd=repo)
        text = REVISION.format(message=f"rehearsal {branch}", rev=rev, down=head, table="rehearsal", column=branch)
        (folder / f"{rev}_rehearsal_{branch}.py").write_text(text)
        if lock and revgraph("lock", cwd=repo).returncode != 0:
            raise RuntimeError(f"revgraph lock failed on {branch}")
        git("add", "-A", cwd=repo)
        git("commit", "-qm", branch, cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    git("merge", "-q", "--no-ff", "-m", "land", "landed", cwd=repo)
    git("checkout", "-q", "mine", cwd=repo)


def rehearse(name: str, versions: Path, recursive: bool, work: Path) -> str:
    """The classic race on this history, in a real git repository, through the real CLI.

    Two branches each add a revision on the same head; one lands; on the other,
    ``check`` must predict RG102, and after ``git merge`` ``fix`` must re-point
    the branch's revision (never the landed one) so that the heads are as many
    as before. Returns "ok" or what went wrong.
    """
    repo = history_repo(work / name / "rehearsal", versions, recursive)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "history", cwd=repo)
    before = heads_of(repo)
    head = sorted(before)[0]
    land_one_of_two(repo, head, "f00d0000aaaa", "f00d0000bbbb")
    predicted = revgraph("check", "--base", "main", "--select", "RG102", "--format", "json", cwd=repo)
    if predicted.returncode != 1 or "RG102" not in predicted.stdout:
        return f"check did not predict RG102 (exit {predicted.returncode}): {predicted.stderr.strip()[-200:]}"
    git("merge", "-q", "--no-edit", "main", cwd=repo)
    fixed = revgraph("fix", cwd=repo)
    if fixed.returncode != 0 or "moved f00d0000bbbb" not in fixed.stdout or "f00d0000aaaa:" in fixed.stdout:
        return f"fix did not move only the branch's revision (exit {fixed.returncode}): {fixed.stdout[-300:]}{fixed.stderr[-300:]}"
    after = heads_of(repo)
    expected = sorted(["f00d0000bbbb" if h == head else h for h in before])
    if sorted(after) != expected:
        return f"heads after the fix are {sorted(after)}, expected {expected}"
    shadow = work / name / "rehearsal-identifiers"
    shutil.rmtree(shadow, ignore_errors=True)
    identifiers_only(repo / "migrations" / "versions", shadow)
    config = ini(work / name / "rehearsal-shadow.ini", repo / "migrations", shadow, recursive)
    theirs = subprocess.run([sys.executable, "-c", ALEMBIC_SIDE, str(config)], capture_output=True, text=True, check=False)
    if theirs.returncode != 0 or json.loads(theirs.stdout)["heads"] != expected:
        return f"alembic reads other heads after the fix: {theirs.stdout.strip() or theirs.stderr.strip()[-200:]}"
    clean = revgraph("check", "--base", "main", "--select", "RG1", cwd=repo)
    return "ok" if clean.returncode == 0 else f"check after the fix: {clean.stdout.strip()[-300:]}"


def rehearse_driver(name: str, versions: Path, recursive: bool, work: Path) -> str:
    """The same race with ``revgraph install`` done: git itself must stop at the lock file.

    Each branch refreshes the heads lock (``revgraph lock``) as a pre-commit
    hook would; merging base into the second branch must stop on the lock
    file (the merge driver), ``fix`` must resolve it, and the merge must
    conclude with one more revision and a lock that matches the graph.
    """
    repo = history_repo(work / name / "rehearsal-driver", versions, recursive)
    installed = revgraph("install", cwd=repo)
    if installed.returncode != 0:
        return f"install failed: {installed.stderr.strip()[-300:]}"
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "history, merge driver and lock", cwd=repo)
    land_one_of_two(repo, sorted(heads_of(repo))[0], "f00d0000cccc", "f00d0000dddd", lock=True)
    try:
        git("merge", "-q", "--no-edit", "main", cwd=repo)
        return "git merged the two heads without stopping (the merge driver did not run)"
    except subprocess.CalledProcessError as stopped:
        if "revgraph.lock" not in stopped.stdout + stopped.stderr:
            return f"the merge stopped elsewhere: {(stopped.stdout + stopped.stderr).strip()[-300:]}"
    fixed = revgraph("fix", cwd=repo)
    if fixed.returncode != 0 or "moved f00d0000dddd" not in fixed.stdout:
        return f"fix did not resolve the stopped merge (exit {fixed.returncode}): {fixed.stderr.strip()[-300:]}"
    git("-c", "core.editor=true", "merge", "--continue", cwd=repo)
    ends = [revgraph("check", "--base", "main", "--select", "RG1,RG4", cwd=repo), revgraph("lock", "--check", cwd=repo)]
    bad = [done for done in ends if done.returncode != 0]
    return "ok" if not bad else f"after the merge: {bad[0].stdout.strip()[-300:]}{bad[0].stderr.strip()[-300:]}"


MERGE_ID = "f00d0000abcd"


def rehearse_merge(name: str, versions: Path, template: Path | None, recursive: bool, work: Path) -> str:
    """``fix --strategy merge`` with the project's own script.py.mako, against ``alembic merge``.

    Two revisions are added on one head; revgraph writes the merge revision in
    the real repository, alembic in a twin whose revision files keep only their
    identifiers (the same template). The two files must be byte for byte the
    same but for the Create Date line, at the same path; or, where the
    template cannot write a merge (it quotes ``${down_revision}``), revgraph
    refuses and alembic's file indeed names no head.
    """
    if template is None:
        return "skipped (the wheel ships no script.py.mako)"
    repo = history_repo(work / name / "rehearsal-merge", versions, recursive)
    shutil.copyfile(template, repo / "migrations" / "script.py.mako")
    (env,) = json.loads(revgraph("heads", "--json", cwd=repo).stdout)["environments"]
    head, labels = next((d["revision"], d["branch_labels"]) for d in env["head_details"])
    # revgraph joins the heads of the line that forks; the others (keystone's
    # expand beside contract) stay apart, as `alembic merge LABEL@heads` does.
    target = f"{labels[0]}@heads" if labels and len(env["heads"]) > 1 else "heads"
    folder = repo / "migrations" / "versions"
    for rev, side in (("f00d0000eeee", "left"), ("f00d0000ffff", "right")):
        text = REVISION.format(message=f"rehearsal {side}", rev=rev, down=head, table="rehearsal", column=side)
        (folder / f"{rev}_rehearsal_{side}.py").write_text(text)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "two heads", cwd=repo)
    twin = work / name / "rehearsal-merge-alembic"
    shutil.rmtree(twin, ignore_errors=True)
    identifiers_only(folder, twin / "migrations" / "versions")
    shutil.copyfile(template, twin / "migrations" / "script.py.mako")
    (twin / "alembic.ini").write_text((repo / "alembic.ini").read_text())
    ours = revgraph("fix", "--strategy", "merge", "-m", "merge heads", "--rev-id", MERGE_ID, cwd=repo)
    # alembic imports the file it just wrote; a template importing the project's
    # packages fails there, after writing: the file is what counts.
    subprocess.run([sys.executable, "-m", "alembic", "merge", "-m", "merge heads", "--rev-id", MERGE_ID, target],
                   cwd=twin, capture_output=True, text=True, check=False)  # fmt: skip
    written = {p.relative_to(twin): p for p in twin.rglob(f"{MERGE_ID}*.py")}
    if len(written) != 1:
        return f"alembic merge wrote {len(written)} files"
    [(where, theirs)] = written.items()
    if ours.returncode != 0:
        down = next((n.value for n in ast.parse(theirs.read_bytes()).body
                     if isinstance(n, (ast.Assign, ast.AnnAssign)) and "down_revision" in ast.unparse(n)), None)
        heads = ast.literal_eval(down) if down is not None else None
        if "renders the merge revision's down_revision" in ours.stderr and not (
            isinstance(heads, tuple) and set(heads) == {"f00d0000eeee", "f00d0000ffff"}
        ):
            return "ok (the template cannot write a merge revision; alembic's names no head, revgraph refuses)"
        return f"fix --strategy merge failed (exit {ours.returncode}): {ours.stderr.strip()[-300:]}"
    mine = repo / where
    if not mine.is_file():
        return f"revgraph wrote its merge elsewhere than alembic's {where}"

    def without_date(path: Path) -> list[bytes]:
        return [line for line in path.read_bytes().split(b"\n") if not line.startswith(b"Create Date:")]

    return "ok" if without_date(mine) == without_date(theirs) else f"{where} differs from alembic's"


def compare(name: str, wheels: Path, work: Path) -> bool:
    pypi, folder, recursive = PROJECTS[name]
    wheel = download(pypi, wheels)
    if wheel is None:
        return True
    place = work / name
    versions = extract(wheel, folder, place / "wheel")
    template = extract_template(wheel, folder, place / "wheel")
    shadow = place / "identifiers"
    complete = identifiers_only(versions, shadow)
    config = ini(place / "alembic.ini", versions.parent, versions, recursive)
    ours = revgraph("-c", str(config), "--no-cache", "heads", "--json", cwd=place)
    check = revgraph("-c", str(config), "--no-cache", "check", "--format", "json", cwd=place)
    try:
        (env,) = json.loads(ours.stdout)["environments"]
        found = collections.Counter(f["code"] for f in json.loads(check.stdout)["findings"])
    except (ValueError, KeyError) as exc:
        print(f"{name:10} revgraph failed ({exc}): {ours.stderr.strip()[-300:]} {check.stderr.strip()[-300:]}")
        return False
    mine = {"heads": sorted(env["heads"]), "bases": sorted(env["bases"]), "revisions": env["revisions"]}
    rules = ", ".join(f"{code} x{n}" for code, n in sorted(found.items())) or "nothing"
    if not complete:
        verdict = "not compared (an identifier that is not a literal: alembic would need the project installed)"
        agree = True
    else:
        theirs = subprocess.run(
            [sys.executable, "-c", ALEMBIC_SIDE, str(ini(place / "shadow.ini", versions.parent, shadow, recursive))],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if theirs.returncode != 0:
            print(f"{name:10} alembic failed: {theirs.stderr.strip().splitlines()[-1:]}")
            return False
        alembic = json.loads(theirs.stdout)
        agree = alembic == mine
        verdict = "same" if agree else f"DIFFERENT: alembic {alembic} revgraph {mine}"
    print(f"{name:10} {wheel.name}: {mine['revisions']} revisions, {len(mine['heads'])} head(s): {verdict}")
    print(f"{'':10} check finds: {rules}")
    if not complete or "RG107" in found:
        return agree  # revgraph cannot read every file there, so it refuses to fix: no rehearsal
    rehearsal = rehearse(name, versions, recursive, work)
    print(f"{'':10} the race of two branches, checked and fixed: {rehearsal}")
    driven = rehearse_driver(name, versions, recursive, work)
    print(f"{'':10} the same race with the merge driver installed: {driven}")
    merged = rehearse_merge(name, versions, template, recursive, work)
    print(f"{'':10} fix --strategy merge with its own template, against alembic merge: {merged}")
    return agree and rehearsal == "ok" and driven == "ok" and merged.startswith(("ok", "skipped"))


# Airflow's migrations release by release: 3.0 squashed everything before 2.7 into one base.
AIRFLOW_RELEASES = [("apache-airflow", v) for v in ("2.7.0", "2.8.0", "2.9.0", "2.10.0")] + [("apache-airflow-core", None)]


def replay_airflow(wheels: Path, work: Path) -> bool:
    """Airflow's versions folder as a git history, one commit per release; audit and check it.

    A history that really was rewritten: ``audit`` must report the 3.0 squash
    (100+ landed revisions deleted, one re-pointed onto the new base), ``check``
    of the squash against the release before it RG202, RG201 and RG204, and
    the markdown report must still fit a pull request comment.
    """
    repo = work / "airflow-releases"
    shutil.rmtree(repo, ignore_errors=True)
    (repo / "migrations").mkdir(parents=True)
    (repo / "alembic.ini").write_text("[alembic]\nscript_location = migrations\npath_separator = os\n")
    git("init", "-q", "-b", "main", cwd=repo)
    for project, version in AIRFLOW_RELEASES:
        wheel = download(project, wheels, version)
        if wheel is None:
            return True  # no network: nothing to say
        shutil.rmtree(repo / "migrations" / "versions", ignore_errors=True)
        extract(wheel, "airflow/migrations/versions", repo / "unpacked")
        shutil.move(str(repo / "unpacked" / "airflow" / "migrations" / "versions"), repo / "migrations" / "versions")
        shutil.rmtree(repo / "unpacked")
        git("add", "-A", cwd=repo)
        git("commit", "-qm", wheel.name, cwd=repo)
    audit = json.loads(revgraph("audit", "--format", "json", cwd=repo).stdout)["environments"][0]
    check = revgraph("check", "--base", "HEAD~1", "--format", "json", cwd=repo)
    found = collections.Counter(f["code"] for f in json.loads(check.stdout)["findings"])
    comment = revgraph("check", "--base", "HEAD~1", "--format", "markdown", cwd=repo).stdout
    print(f"airflow releases {', '.join(v or 'core' for _, v in AIRFLOW_RELEASES)}: audit finds "
          f"{len(audit['deleted'])} deleted, {len(audit['repointed'])} re-pointed, {len(audit['edited'])} edited; "
          f"check of the squash: {', '.join(f'{c} x{n}' for c, n in sorted(found.items()))}; "
          f"PR comment {len(comment):,} characters")  # fmt: skip
    return (
        len(audit["deleted"]) >= 100 and len(audit["repointed"]) >= 1 and check.returncode == 1
        and found["RG202"] >= 100 and found["RG201"] >= 1 and found["RG204"] == 1 and len(comment) <= 65_536
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("projects", nargs="*", metavar="PROJECT", help=f"default: all of {', '.join(PROJECTS)}")
    parser.add_argument("--keep", type=Path, help="download and extract here, and keep it")
    parser.add_argument("--releases", action="store_true",
                        help="also replay Airflow 2.7 -> 3.x release by release and audit the squash (~60 MB)")  # fmt: skip
    args = parser.parse_args()
    unknown = sorted(set(args.projects) - set(PROJECTS))
    if unknown:
        parser.error(f"unknown project(s): {', '.join(unknown)} (known: {', '.join(PROJECTS)})")
    work = args.keep or Path(tempfile.mkdtemp(prefix="revgraph-realworld-"))
    wheels = work / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    try:
        results = [compare(name, wheels, work) for name in (args.projects or PROJECTS)]
        if args.releases:
            results.append(replay_airflow(wheels, work))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
