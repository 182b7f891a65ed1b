"""The global options, and how they may follow the command name.

``revgraph check --base main -q`` means ``revgraph -q check --base main``:
a global option (one of ``revgraph.cli._global``'s) found among a command's
own options is moved in front of the command, with its value, before click
parses anything. Both doors use this module, so it imports nothing beyond the
standard library: ``revgraph.entry`` reads ``VALUES``/``FLAGS`` to answer a
plain ``check``/``heads`` wherever the global options stand, and the typer
group in ``revgraph.cli`` calls ``hoist`` with the exact option tables click
builds (the callback's and the command's).

What is moved, and what is not, follows click's own parser, so that the
moved command line means what the user wrote:

* a command's own option wins over a global one spelled the same
  (``heads -v``, ``fix -n``);
* the value of a command's option stays its value (``check --base -q``:
  the ref ``-q``, as click reads it), and so does a global option's
  (``check -C -q``: the folder ``-q``);
* nothing after ``--`` moves;
* a cluster of short options is split (``check -qv``: both global;
  ``heads -qv``: ``-q`` global, ``-v`` the command's);
* anything the parser would refuse (an unknown option) stays where it is,
  so click reports it as it does today.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Mapping, Sequence

# ``revgraph.cli._global``'s options, as the fast paths read them:
# spelling -> key (options that take a value) or (key, value) (flags).
# tests/unit/test_globalopts.py holds them against the callback.
VALUES = {"-C": "directory", "-c": "config", "--config": "config", "-n": "name",
          "--name": "name", "--versions": "versions", "--env": "env"}  # fmt: skip
FLAGS = {"--color": ("color", True), "--no-color": ("color", False),
         "-q": ("quiet", True), "--quiet": ("quiet", True),
         "-v": ("verbose", True), "--verbose": ("verbose", True),
         "--no-cache": ("no_cache", True)}  # fmt: skip
# Global options that only the full CLI handles (a fast path gives up on them).
FULL_CLI_ONLY = ("--debug", "--version")
# All of them (and the group's help), as ``hoist`` reads a table: spelling -> takes a value.
TAKES_VALUE = {**dict.fromkeys(VALUES, True), **dict.fromkeys(FLAGS, False),
               **dict.fromkeys(FULL_CLI_ONLY, False), "-h": False, "--help": False}  # fmt: skip


class MissingValue(ValueError):
    """A global option after the command, last on the line, without the value it takes."""

    def __init__(self, option: str) -> None:
        super().__init__(option)
        self.option = option


def _is_short(spelling: str) -> bool:
    """``-q``: matched inside a cluster; anything longer (``--quiet``, ``-foo``) whole."""
    return len(spelling) == 2 and spelling[0] == "-" and spelling[1] != "-"


def hoist(
    args: Sequence[str],
    global_options: Mapping[str, bool],
    command_options: Callable[[str], Mapping[str, bool] | None],
) -> list[str]:
    """``args`` with the global options after the command name moved before it.

    ``global_options``: the group's options (help included), spelling ->
    takes a value. ``command_options(name)``: the same for a command, or None
    to leave its command line as it is (unknown command, or one that takes
    unknown options as arguments). Unchanged when nothing is to move.
    Raises ``MissingValue`` for a global option that lacks its value.
    """
    args = list(args)
    i = 0
    while i < len(args):  # the group's own options, up to the command name
        arg = args[i]
        if arg == "--":
            return args
        if arg[:1] != "-" or len(arg) == 1:
            break
        width = _width(arg, args, i, global_options)
        if width is None:
            return args  # click refuses it before it reaches the command
        i += width
    else:
        return args
    table = command_options(args[i])
    if table is None:
        return args
    moved: list[str] = []
    kept: list[str] = []
    j = i + 1
    while j < len(args):
        arg = args[j]
        if arg == "--":
            kept.extend(args[j:])
            break
        if arg[:1] != "-" or len(arg) == 1:
            kept.append(arg)  # an argument of the command
            j += 1
            continue
        name = arg.partition("=")[0]
        if not _is_short(name) and (name in table or name in global_options):
            side = kept if name in table else moved
            takes = (table if name in table else global_options)[name]
            if side is moved and takes and "=" not in arg and j + 1 == len(args):
                raise MissingValue(name)  # in front of the command it would take the command's name
            width = 2 if takes and "=" not in arg and j + 1 < len(args) else 1
            side.extend(args[j : j + width])
            j += width
        elif arg.startswith("--"):
            kept.append(arg)  # unknown: click says so, as before
            j += 1
        else:
            j += _split_cluster(arg, args, j, table, global_options, kept, moved)
    if not moved:
        return args
    return [*args[:i], *moved, *args[i:i + 1], *kept]  # fmt: skip


def conflicting_values(args: Sequence[str], table: Mapping[str, bool]) -> tuple[str, str, str] | None:
    """(spelling, first value, other value) of a global option given twice with two
    values in front of the command (``--env a --env b``; after ``hoist``), else None.

    click keeps the last silently, so ``revgraph --env a check --env b`` would check
    b alone whichever one the user meant. Read as ``hoist`` reads the group's options.
    ``-C`` may repeat: each is relative to the one before, as in git.
    """
    seen: dict[str, tuple[str, str]] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--" or arg[:1] != "-" or len(arg) == 1:
            return None
        width = _width(arg, args, i, table)
        if width is None:
            return None
        for spelling, value in _given_values(arg, args[i + 1] if width == 2 else None, table):
            key = VALUES.get(spelling)
            if key is None or key == "directory":
                continue  # (a second -C is relative to the first, as in git)
            if key in seen and seen[key][1] != value:
                return spelling, seen[key][1], value
            seen[key] = (spelling, value)
        i += width
    return None


def _given_values(arg: str, following: str | None, table: Mapping[str, bool]) -> list[tuple[str, str]]:
    """The (spelling, value) pairs of value-taking options in one option argument."""
    name, eq, attached = arg.partition("=")
    if not _is_short(name) and name in table:
        if not table[name]:
            return []
        value = attached if eq else following
        return [(name, value)] if value is not None else []
    for k, ch in enumerate(arg[1:], start=2):  # a cluster: -qnfoo, -qn foo
        if table.get("-" + ch):
            value = arg[k:] if k < len(arg) else following
            return [("-" + ch, value)] if value is not None else []
    return []


def _width(arg: str, args: list[str], i: int, table: Mapping[str, bool]) -> int | None:
    """How many arguments the option at ``args[i]`` spans, or None if ``table`` lacks it."""
    name = arg.partition("=")[0]
    if not _is_short(name) and name in table:
        return 2 if table[name] and "=" not in arg and i + 1 < len(args) else 1
    if arg.startswith("--"):
        return None
    for k, ch in enumerate(arg[1:], start=2):
        takes = table.get("-" + ch)
        if takes is None:
            return None
        if takes:  # the rest of the cluster, or else the next argument, is its value
            return 1 if k < len(arg) else min(2, len(args) - i)
    return 1


def _split_cluster(
    arg: str,
    args: list[str],
    j: int,
    table: Mapping[str, bool],
    global_options: Mapping[str, bool],
    kept: list[str],
    moved: list[str],
) -> int:
    """Share the short options of ``-abc`` between the command and the front; returns the width."""
    mine, front = "", ""
    extra: list[str] = []
    for k, ch in enumerate(arg[1:], start=2):
        spelling = "-" + ch
        if spelling in table:
            takes, here = table[spelling], "mine"
        elif spelling in global_options:
            takes, here = global_options[spelling], "front"
        else:
            mine += arg[k - 1 :]  # unknown from here on: click reports it where it stands
            break
        rest = arg[k:] if takes else ""
        if here == "mine":
            mine += ch + rest
        else:
            front += ch + rest
        if takes:
            if not rest and j + 1 < len(args):
                extra = [args[j + 1]]
            elif not rest and here == "front":
                raise MissingValue(spelling)
            if here == "mine":
                kept.extend(["-" + mine, *extra])
                mine = ""
            else:
                moved.extend(["-" + front, *extra])
                front = ""
            break
    if mine:
        kept.append("-" + mine)
    if front:
        moved.append("-" + front)
    return 1 + len(extra)


def help_line(global_spellings: Sequence[Sequence[str]], command_options: Mapping[str, bool]) -> str:
    """One line for a command's ``--help``: the global options it also takes there.

    ``global_spellings``: each global option's spellings, in the callback's
    order; a spelling the command has itself is left out (the command's wins).
    """
    shown = []
    for spellings in global_spellings:
        free = [s for s in spellings if s not in command_options]
        if free:
            shown.append("/".join(free))
    return "Global options may also be given after the command: " + ", ".join(shown) + " (see revgraph --help)."
