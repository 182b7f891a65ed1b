"""Quoting for the shell commands revgraph prints (fix lines, hints).

``shlex.quote`` is right for any name that is printable text. A file name that
is not UTF-8 reaches revgraph as a string holding lone surrogates (Python's
``surrogateescape``); ``shlex.quote`` would print ``'caf\\udce9.py'``, which names
no file in any shell and cannot even be written to a UTF-8 terminal. Such a
word is printed in bash/zsh ANSI-C quoting instead (``$'caf\\xe9.py'``), byte
for byte the name on disk; so is a word holding a line break or another
control character (a revision id may, and the RG403 fix names a file after
it): quoted by ``shlex``, the command would span lines, and a text report
shows a line break escaped, which the shell would not read back.
"""

from __future__ import annotations

import shlex


def shell_word(word: str) -> str:
    """``word`` quoted for a POSIX shell; ANSI-C quoted (bash, zsh) when it is not
    printable text (not UTF-8, or holding a control character)."""
    if word.isprintable():
        return shlex.quote(word)
    out = []
    for char in word:
        if char.isprintable() and char not in "\\'":
            out.append(char)
        else:  # a lone surrogate is the byte it stands for
            out.extend(f"\\x{b:02x}" for b in char.encode("utf-8", "surrogateescape"))
    return "$'" + "".join(out) + "'"


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
