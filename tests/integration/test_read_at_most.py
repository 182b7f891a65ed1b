"""``worktree.read_at_most``: the working-tree reader's bounded read, on real files."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph.sources.worktree import read_at_most


@settings(deadline=None)
@given(size=st.integers(0, 5000), limit=st.integers(1, 6000), stale=st.integers(-100, 100))
def test_reads_what_a_plain_bounded_read_reads(tmp_path_factory, size, limit, stale):
    path = tmp_path_factory.mktemp("f") / "x.py"
    data = os.urandom(size)
    path.write_bytes(data)
    # ``expected`` is the size seen by an earlier stat; the file may have changed since.
    assert read_at_most(str(path), limit, size + stale) == data[:limit]


def test_a_file_that_grew_after_its_stat_is_read_up_to_the_limit(tmp_path):
    path = tmp_path / "grew.py"
    path.write_bytes(b"a" * 10)
    stat_size = path.stat().st_size
    path.write_bytes(b"a" * 3_000_000)
    assert len(read_at_most(str(path), 2_000_001, stat_size)) == 2_000_001
    assert len(read_at_most(str(path), 5_000_001, stat_size)) == 3_000_000


def test_a_missing_file_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        read_at_most(str(tmp_path / "gone.py"), 10, 5)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_does_not_hang(tmp_path):
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    assert read_at_most(str(fifo), 10, 0) == b""


def _counting_reads(monkeypatch, most: int | None = None) -> list[int]:
    """Patch ``os.read`` to count its calls (and return at most ``most`` bytes per call)."""
    calls: list[int] = []
    real = os.read

    def read(fd: int, n: int) -> bytes:
        calls.append(n)
        return real(fd, n if most is None else min(n, most))

    monkeypatch.setattr(os, "read", read)
    return calls


def test_a_file_of_its_stat_size_takes_one_read(tmp_path, monkeypatch):
    path = tmp_path / "x.py"
    path.write_bytes(b"revision = 'a'\n" * 100)
    calls = _counting_reads(monkeypatch)
    assert read_at_most(str(path), 5_000_001, 1500) == b"revision = 'a'\n" * 100
    assert len(calls) == 1  # the short read at the stat's size is the end of the file


def test_short_reads_before_the_stat_size_read_on(tmp_path, monkeypatch):
    data = os.urandom(1000)
    path = tmp_path / "x.py"
    path.write_bytes(data)
    calls = _counting_reads(monkeypatch, most=7)  # a file system that returns little at a time
    assert read_at_most(str(path), 5_000_001, 1000) == data
    assert len(calls) >= 1000 // 7
