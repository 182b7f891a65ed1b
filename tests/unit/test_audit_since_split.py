"""``audit._split``: where ``--since`` starts a history whose commit dates are not in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from revgraph.audit import _split


def test_dates_in_order_split_where_the_date_is_passed():
    assert _split([False, False, True, True]) == 2
    assert _split([True, True]) == 0
    assert _split([False, False]) == 2
    assert _split([]) == 0


def test_one_stray_date_on_either_side_moves_nothing():
    assert _split([True, False, False, True, False, True]) == 3  # an old root dated today; a skewed clock
    assert _split([False, True, False, False, True, True]) == 4


@given(st.lists(st.booleans(), max_size=40))
def test_no_cut_leaves_fewer_commits_on_the_wrong_side(inside):
    def wrong(cut: int) -> int:
        return sum(inside[:cut]) + sum(not x for x in inside[cut:])

    found = _split(inside)
    assert all(wrong(found) <= wrong(cut) for cut in range(len(inside) + 1))
    assert all(wrong(cut) > wrong(found) for cut in range(found))  # the earliest of the best
