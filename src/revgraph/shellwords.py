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


def git_restore(source: str, paths: list[str] | tuple[str, ...]) -> str:
    """The command that brings ``paths`` back as ``source`` has them, in the index and on disk.

    Both: a re-point or deletion already staged (``git add``, ``git rm``)
    would stay staged after a plain ``git restore --source``, and the next
    ``git commit`` would land it while ``check``, which reads the working
    tree, saw nothing wrong any more.
    """
    return f"git restore --source={shell_word(source)} --staged --worktree -- " + " ".join(map(shell_word, paths))


def git_remove(path: str) -> str:
    """The command that removes ``path`` from the index (if there) and from disk."""
    word = shell_word(path)
    return f"git rm -q -f --ignore-unmatch -- {word} && rm -f -- {word}"
