"""The predicted merge of a conflicted config reads base's folders: the result cache's
key must hold them, or a revision base adds there later is answered from an old result."""

from __future__ import annotations

import json

from tests.integration.test_ref_settings import FEATURE, MORE, OLD
from tests.integration.test_review_unrelated_config_edit import ONE, PYPROJECT, TWO


def test_a_revision_base_adds_to_its_own_folder_is_not_answered_from_the_cache(gitrepo):
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(OLD, None, message="create users")
    gitrepo.write("pyproject.toml", PYPROJECT.format(version="1.0", locations=ONE))
    gitrepo.commit("history")
    gitrepo.branch("feature")
    gitrepo.write("pyproject.toml", PYPROJECT.format(version="1.1", locations=TWO))
    gitrepo.commit("main: 1.1, a second versions folder, empty yet")
    gitrepo.checkout("feature")
    gitrepo.add_revision(FEATURE, OLD, message="invoices")
    gitrepo.write("pyproject.toml", PYPROJECT.format(version="2.0", locations=ONE))
    gitrepo.commit("feature: invoices, and 2.0")

    def codes(*options):
        check = gitrepo.run(*options, "check", "--base", "main", "--format", "json", check=None)
        return {finding["code"] for finding in json.loads(check.stdout)["findings"]}

    assert codes() == set()
    gitrepo.checkout("main")
    gitrepo.add_revision(MORE, OLD, message="reports", versions="more")
    gitrepo.commit("main: reports, in the second folder")
    gitrepo.checkout("feature")
    assert codes("--no-cache") == {"RG102"}
    assert codes() == {"RG102"}
