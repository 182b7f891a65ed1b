"""An uncommitted edit of a config file that moves no revision leaves the predicted merge
read with HEAD's copy of it.

a1cdda6 put every uncommitted config edit into the predicted merge. A pyproject.toml
is edited for many reasons (a version bump, a dependency); when base changed the same
lines, the predicted merge's copy conflicts, its settings cannot be read, and the merge
is read with the working tree's: base's added versions folder went unseen, and
``check`` said "All good" where the merge leaves two heads. Before that commit, and
with this edit committed after a merge, base's folder counts.
"""

from __future__ import annotations

import json

from tests.integration.test_ref_settings import FEATURE, MORE, OLD

PYPROJECT = (
    '[project]\nname = "app"\nversion = "{version}"\n\n'
    "[tool.alembic]\nversion_locations = {locations}\n"
)
ONE = '["%(here)s/migrations/versions"]'
TWO = '["%(here)s/migrations/versions", "%(here)s/more"]'


def base_adds_a_folder(gitrepo, *, base_revision: bool = True, feature_version: str | None = None) -> None:
    """main bumps the version to 1.1 and adds a second versions folder (with MORE in it
    unless ``base_revision`` is false); feature adds FEATURE on OLD, and commits
    ``feature_version`` as its own version bump when given. Checked out: feature."""
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(OLD, None, message="create users")
    gitrepo.write("pyproject.toml", PYPROJECT.format(version="1.0", locations=ONE))
    gitrepo.commit("history")
    gitrepo.branch("feature")
    gitrepo.write("pyproject.toml", PYPROJECT.format(version="1.1", locations=TWO))
    if base_revision:
        gitrepo.add_revision(MORE, OLD, message="reports", versions="more")
    gitrepo.commit("main: 1.1, and a second versions folder")
    gitrepo.checkout("feature")
    gitrepo.add_revision(FEATURE, OLD, message="invoices")
    if feature_version is not None:
        gitrepo.write("pyproject.toml", PYPROJECT.format(version=feature_version, locations=ONE))
    gitrepo.commit("feature: invoices")


def check_codes(gitrepo, *options: str) -> set[str]:
    check = gitrepo.run(*options, "check", "--base", "main", "--format", "json", check=None)
    return {finding["code"] for finding in json.loads(check.stdout)["findings"]}


def test_a_version_bump_in_pyproject_does_not_hide_base_s_new_folder(gitrepo):
    base_adds_a_folder(gitrepo)
    codes = lambda *options: check_codes(gitrepo, *options)  # noqa: E731

    assert codes() == {"RG102"}  # FEATURE and MORE both hang off OLD
    gitrepo.write("pyproject.toml", PYPROJECT.format(version="2.0", locations=ONE))  # not committed
    assert codes("--no-cache") == {"RG102"}
    assert codes() == {"RG102"}


def test_a_config_both_sides_changed_is_read_with_both_sides_folders(gitrepo):
    # The same, committed: the predicted merge's pyproject.toml conflicts (both
    # bumped the version), its settings cannot be read, and the merge was read
    # with the working tree's alone: base's new folder unseen, "All good" over
    # two heads. Until the user resolves it, the merge holds both sides' folders.
    base_adds_a_folder(gitrepo, feature_version="2.0")
    assert check_codes(gitrepo, "--no-cache") == check_codes(gitrepo) == {"RG102"}
