"""Every word revgraph quotes into a printed command is, in bash, the exact bytes it names."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph.shellwords import shell_word

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")

# File names as the OS gives them: any bytes but NUL and "/", decoded as Python decodes them.
names = st.binary(min_size=1, max_size=12).filter(lambda b: b"\0" not in b and b"/" not in b)


def _bash_echo(words: list[str]) -> list[bytes]:
    script = " ".join(f"printf '%s\\0' {shell_word(w)};" for w in words)
    out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    return out.split(b"\0")[:-1]


@settings(max_examples=60, deadline=None)
@given(st.lists(names, min_size=1, max_size=20))
def test_bash_reads_each_quoted_name_back_as_its_bytes(raw_names):
    words = [os.fsdecode(raw) for raw in raw_names]
    assert _bash_echo(words) == raw_names


@given(names)
def test_a_quoted_name_is_printable_text(raw):
    # A fix line goes to a terminal and into JSON: it must encode as UTF-8.
    shell_word(os.fsdecode(raw)).encode("utf-8")


def test_text_names_keep_posix_quoting():
    assert shell_word("migrations/versions/a b.py") == "'migrations/versions/a b.py'"
    assert shell_word("café.py") == "'café.py'"
    assert shell_word(os.fsdecode(b"caf\xe9.py")) == "$'caf\\xe9.py'"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12).filter(lambda t: "\0" not in t), min_size=1, max_size=10))
def test_a_quoted_word_is_one_line_that_bash_reads_back(words):
    # A revision id may hold a line break, and the RG403 fix names a file after it:
    # quoted by shlex the command spanned lines, which the text report shows escaped.
    quoted = [shell_word(w) for w in words]
    assert not any(set(q) & set("\n\r\u2028\u2029") for q in quoted), quoted
    assert _bash_echo(words) == [w.encode("utf-8", "surrogatepass") for w in words]


def test_a_word_with_a_line_break_is_ansi_c_quoted():
    assert shell_word("v/cccc\n\nAll good_c.py") == "$'v/cccc\\x0a\\x0aAll good_c.py'"
    assert shell_word("it's\té.py") == "$'it\\x27s\\x09é.py'"
