"""Quoting for the shell commands revgraph prints (fix lines, hints).

``shlex.quote`` is right for any name that is text. A file name that is not
UTF-8 reaches revgraph as a string holding lone surrogates (Python's
``surrogateescape``); ``shlex.quote`` would print ``'caf\\udce9.py'``, which names
no file in any shell and cannot even be written to a UTF-8 terminal. Such a
word is printed in bash/zsh ANSI-C quoting instead (``$'caf\\xe9.py'``), byte
for byte the name on disk.
"""

from __future__ import annotations

import shlex

_VERBATIM = frozenset(range(0x20, 0x7F)) - {ord("\\"), ord("'")}


def shell_word(word: str) -> str:
    """``word`` quoted for a POSIX shell; ANSI-C quoted (bash, zsh) when it is not UTF-8."""
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        raw = word.encode("utf-8", "surrogateescape")
        return "$'" + "".join(chr(b) if b in _VERBATIM else f"\\x{b:02x}" for b in raw) + "'"
    return shlex.quote(word)
