"""`check`'s text report: notes do not bury what matters, and -q prints only what does.

Found on airflow's real history: 1 error and 2 warnings followed by 124 RG403
notes, each with its own `git mv` line (248 lines), and `-q` ("Print only what
matters") printed the very same 261 lines. Now plain text lists the first
NOTES_SHOWN notes of a rule and counts the rest (-v and JSON list them all);
-q leaves notes out, and prints nothing when there is no error or warning.
Each command runs twice: the second answer comes from the result caches,
which must keep the outputs of -q, -v and plain text apart.
"""

from __future__ import annotations

import json

from revgraph.render.report_text import NOTES_SHOWN

ROOT = "a0a0a0a0a0a0"
UNNAMED = [f"b{i}b{i}b{i}b{i}b{i}b{i}" for i in range(NOTES_SHOWN + 2)]


def history_with_notes(repo) -> None:
    """main: ROOT, then a line of revisions whose file names lack their ids (RG403 notes)."""
    repo.init_env(commit=False)
    repo.add_revision(ROOT, None, message="root")
    down = ROOT
    for index, rid in enumerate(UNNAMED):
        written = repo.add_revision(rid, down, message=f"step {index}")
        (repo.path / written).rename(repo.path / f"migrations/versions/step_{index}.py")
        down = rid
    repo.commit("history")


def twice(repo, *args: str):
    first, second = repo.run(*args), repo.run(*args)
    assert (first.stdout, first.returncode) == (second.stdout, second.returncode), (first, second)
    return first


def test_plain_text_lists_a_few_notes_of_a_rule_and_counts_the_rest(gitrepo):
    history_with_notes(gitrepo)

    plain = twice(gitrepo, "check")
    assert plain.returncode == 0
    assert plain.stdout.count(": RG403 ") == NOTES_SHOWN
    assert "... and 2 more RG403 notes (-v lists them all)" in plain.stdout
    assert f"info ({len(UNNAMED)})" in plain.stdout and f"{len(UNNAMED)} notes" in plain.stdout

    verbose = twice(gitrepo, "check", "-v")
    assert verbose.stdout.count(": RG403 ") == len(UNNAMED) and "more RG403" not in verbose.stdout
    found = json.loads(twice(gitrepo, "check", "--format", "json").stdout)["findings"]
    assert len([f for f in found if f["code"] == "RG403"]) == len(UNNAMED)


def test_quiet_prints_nothing_when_nothing_matters_and_only_what_does_otherwise(gitrepo):
    history_with_notes(gitrepo)

    for args in (("-q", "check"), ("check", "-q")):
        quiet = twice(gitrepo, *args)
        assert (quiet.returncode, quiet.stdout) == (0, ""), quiet
    assert "RG403" in twice(gitrepo, "check").stdout  # the cache kept the two apart

    gitrepo.add_revision("c0c0c0c0c0c0", ROOT, message="second head")  # RG101
    loud, quiet = twice(gitrepo, "check"), twice(gitrepo, "check", "-q")
    assert loud.returncode == quiet.returncode == 1
    assert "RG101" in quiet.stdout and "RG403" not in quiet.stdout and "info (" not in quiet.stdout
    assert quiet.stdout.strip().splitlines()[-1] == loud.stdout.strip().splitlines()[-1]  # the summary
    assert "RG403" in loud.stdout


def test_doctor_explains_each_rule_but_counts_notes_past_a_few_too(gitrepo):
    # doctor is verbose (one explanation per rule) and listed all 124 of airflow's
    # RG403 notes with their `git mv` lines; -v still lists every one.
    history_with_notes(gitrepo)
    doctor = gitrepo.run("doctor")
    assert doctor.stdout.count(": RG403 ") == NOTES_SHOWN
    assert "... and 2 more RG403 notes (-v lists them all)" in doctor.stdout
    assert "The environment's `file_template`" in doctor.stdout  # the rule is still explained
    assert gitrepo.run("doctor", "-v").stdout.count(": RG403 ") == len(UNNAMED)
