"""The predicted merge of a conflicted config reads base's folders: the result cache's
key must hold them, or a revision base adds there later is answered from an old result."""

from __future__ import annotations

from tests.integration.test_ref_settings import MORE, OLD
from tests.integration.test_review_unrelated_config_edit import base_adds_a_folder, check_codes


def test_a_revision_base_adds_to_its_own_folder_is_not_answered_from_the_cache(gitrepo):
    base_adds_a_folder(gitrepo, base_revision=False, feature_version="2.0")  # the folder empty yet
    codes = lambda *options: check_codes(gitrepo, *options)  # noqa: E731

    assert codes() == set()
    gitrepo.checkout("main")
    gitrepo.add_revision(MORE, OLD, message="reports", versions="more")
    gitrepo.commit("main: reports, in the second folder")
    gitrepo.checkout("feature")
    assert codes("--no-cache") == {"RG102"}
    assert codes() == {"RG102"}
