"""The door of the command line: answers the hot commands before typer is imported.

``revgraph`` (the console script), ``python -m revgraph`` and ``revgraph.cli.run``
all enter through ``run`` here. Importing typer costs more than the commands
people run most (typer 0.29 builds a pydantic adapter for every parameter, and
click and rich come with it), so three command lines are answered first,
without it:

* ``merge-driver``: git runs it on every merge of the lock file;
* ``check``: a warm check is answered from the result cache
  (``resultcache.fast_check``); one the cache cannot answer is run and
  rendered there too, by the functions ``revgraph check`` uses, unless it
  fails (the full CLI then runs it and reports the error);
* ``heads``: parsed here and run by ``show_heads``, the very function the
  typer command calls.

Only plain command lines take a fast path (``parse_argv`` accepts the options
click would parse the same way, the global ones before or after the command
name, and gives up on anything else: ``--help``,
``--debug``, a repeated or empty value, a short-option cluster, ``--``); every
other command line (and ``check --no-cache``, ``--db``, ``-o``, the github and
markdown formats) goes to ``revgraph.cli`` unchanged. What both paths print is produced by the same
code: ``State`` (the global options and the two consoles), ``show_heads`` and
``exit_code_for`` (how an exception becomes a message and an exit code) live
here and ``revgraph.cli`` uses them too.

This module imports nothing beyond the standard library at its top; rich is
imported only when a line needs it (colour, or text rich would change).
"""

from __future__ import annotations

import io
import os
import sys

from revgraph import globalopts  # standard library only, as this module

# typing, collections.abc and pathlib cost ~20 ms to import in a bare
# interpreter, ~15% of a warm check: annotations only here.
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

# ------------------------------------------------------------------ the door


def main(argv: Sequence[str] | None = None) -> None:
    """The console script and ``python -m revgraph``."""
    try:
        watch_stdout()
        code = run(argv)
    except KeyboardInterrupt:  # a Ctrl-C outside run's own guard
        say_error("interrupted")
        code = 130
    if _output_error is not None:
        # What stdout refused is still buffered: the interpreter's last flush
        # would print "Exception ignored ... OSError" and exit 120.
        silence_stdout()
    # The process ends here. Its last collection would walk every object a
    # large check keeps (400k at 20k revisions) for garbage that goes with
    # the process anyway: ~35 ms of a cold check's ~55 ms of shutdown.
    # Frozen objects are skipped; atexit handlers and finalizers still run.
    import gc

    gc.freeze()
    sys.exit(code)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the exit code (never raises for user errors)."""
    import gc

    args = list(sys.argv[1:] if argv is None else argv)
    printable_names()
    # A cold check keeps ~20 objects per revision file alive (20k files: 400k)
    # and makes almost no cyclic garbage: the collector only walks young
    # objects that live on. With the default threshold that was 15% of a cold
    # 20k check; with a threshold of 100,000 still ten passes (~45 ms here and
    # as many in the forked reader) that freed ~360 objects. Off for the run,
    # the same peak memory at 20k (check, heads, graph, audit), 4-10% less
    # time; restored for an in-process caller.
    collecting = gc.isenabled()
    gc.disable()
    try:
        code = fast_path(args)
        if code is None:
            from revgraph.cli import run_app

            code = run_app(args)
    except BaseException as exc:
        # A Ctrl-C while typer loads, a stdout that refused a fast path's answer:
        # what run_app's own guard would say of them.
        found = exit_code_for(exc, debug="--debug" in args)
        if found is None:
            raise
        code = found
    finally:
        if collecting:
            gc.enable()
    return flushed(code)


def flushed(code: int) -> int:
    """``code``, once what is left in stdout's buffer is written; an I/O error's code if it cannot be."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        return 1  # quietly, as exit_code_for ends a broken pipe
    except OSError as exc:
        return max(code, cannot_write_output(exc))
    return code


# ------------------------------------------------------------- standard output
# What a write to the process's stdout met (``watch_stdout``): an OSError that
# reaches ``exit_code_for`` with it is the output's, not a bug.
_output_error: OSError | None = None
_stdout_closed = False  # stdout was closed when revgraph started (``revgraph ... >&-``)
_output_said = False  # "cannot write the output" was said (once is enough)


class _WatchedOutput(io.FileIO):
    """fd 1, noting the error a write to it meets."""

    def write(self, data):  # type: ignore[override]
        global _output_error
        try:
            return super().write(data)
        except OSError as exc:
            _output_error = exc
            raise


def watch_stdout() -> None:
    """Make ``sys.stdout`` note the error a write meets, so that ``exit_code_for`` tells
    a full disk (``>/dev/full``) or a closed stdout (``>&-``) from a bug of ours.

    Only the process's own stdout, and only where it is a plain file descriptor
    (not on Windows, whose console stream is not one): what an in-process caller
    made ``sys.stdout`` is its own. A closed stdout becomes fd 1 open for reading
    only: a write fails there as it would have (EBADF), and no file revgraph or
    git opens later takes fd 1 for stdout.
    """
    global _stdout_closed
    stream = sys.stdout
    if os.name == "nt" or stream is not sys.__stdout__:
        return
    if stream is None:
        try:
            os.fstat(1)
            return  # open, though Python made no stream of it: leave it be
        except OSError:
            pass
        if not _null_device_on_fd_1(os.O_RDONLY):
            return
        _stdout_closed = True
        encoding, errors, line_buffering, write_through = "utf-8", "backslashreplace", False, False
    else:
        try:
            if stream.fileno() != 1:
                return
            stream.flush()
            encoding, errors = stream.encoding, stream.errors
            line_buffering, write_through = stream.line_buffering, stream.write_through
        except (AttributeError, ValueError, OSError):  # not a TextIOWrapper on fd 1, or it failed already
            return
    watched = _WatchedOutput(1, "w", closefd=False)
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(watched), encoding=encoding, errors=errors, newline="\n",
        line_buffering=line_buffering, write_through=write_through,
    )  # fmt: skip


def output_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is the error stdout gave a write (``watch_stdout``)."""
    return (
        isinstance(exc, OSError)
        and _output_error is not None
        and (exc is _output_error or exc.errno == _output_error.errno)
    )


def cannot_write_output(exc: OSError) -> int:
    """Say (once) that stdout refused the output; the exit code of an I/O error."""
    global _output_said
    if not _output_said:
        _output_said = True
        why = "standard output is closed" if _stdout_closed else (exc.strerror or str(exc))
        say_error(f"revgraph: error: cannot write the output: {why}")
    return 2


def write_document(text: str) -> None:
    """Write a machine format (JSON, SARIF, JUnit, workflow commands, markdown, DOT) to
    stdout as UTF-8, whatever the locale makes of stdout.

    Such output is read by a program that takes UTF-8 (GitHub's runner, ``jq``, an
    XML parser), not by the terminal: with ``PYTHONIOENCODING=ascii`` or a latin-1
    locale, ``é`` in a file name came out as ``\\xe9`` (JSON that does not parse, an
    annotation on another file) or as latin-1 under an XML declaration of UTF-8 (a
    tester). Text for people keeps the stream's encoding.
    """
    text = text if text.endswith("\n") or not text else text + "\n"
    stream = sys.stdout
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    raw = getattr(stream, "buffer", None)
    if encoding in ("utf8", "") or raw is None:
        stream.write(text)
        stream.flush()
        return
    stream.flush()
    raw.write(text.encode("utf-8", "backslashreplace"))  # a lone surrogate as the UTF-8 path writes it
    raw.flush()


def silence_stdout() -> None:
    """Point fd 1 at the null device: what stdout still holds goes nowhere, quietly."""
    _null_device_on_fd_1(os.O_WRONLY)


def _null_device_on_fd_1(flags: int) -> bool:
    """Open the null device as fd 1 (``flags``: for reading or writing); False if it cannot be opened."""
    try:
        fd = os.open(os.devnull, flags)
    except OSError:
        return False
    if fd != 1:
        os.dup2(fd, 1)
        os.close(fd)
    return True


def say_error(line: str) -> None:
    """``line`` on stderr, if stderr takes it: nothing is left to report a failure to."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (AttributeError, ValueError, OSError):
        pass


def fast_path(args: list[str]) -> int | None:
    """The exit code of a command answered without typer, or None to run the full CLI."""
    if args[:1] == ["merge-driver"] and not {"-h", "--help"} & set(args[1:]) and not moves_global(args):
        # git runs this on every merge of the lock file; skip typer and rich.
        # (``run`` has the collector off already: the driver makes no garbage worth it.)
        from revgraph.gitops.driver import main as driver_main

        try:
            return driver_main(args[1:])
        except Exception as exc:  # never leave git with a half-written file or a traceback
            sys.stderr.write(f"revgraph merge-driver: {type(exc).__name__}: {exc}\n")
            return 2
    if args == ["--version"]:  # what tools and bug reports ask first: typer's answer, without typer
        from revgraph import __version__

        sys.stdout.write(f"revgraph {__version__}\n")
        return 0
    code = None
    if "check" in args:
        # An unchanged tree's check comes from the result cache.
        from revgraph.resultcache import fast_check

        code = fast_check(args)
    if code is None and "heads" in args:
        code = fast_heads(args)
    return code


def moves_global(args: list[str]) -> bool:
    """Whether a global option follows the command name (``merge-driver O A B -q``).

    The full CLI moves it in front, as if written there; the merge driver's
    fast path reads every argument as a file, so such a line is left to it.
    """
    try:
        # merge-driver has arguments only, and the help options (a unit test holds it to that)
        table = {"merge-driver": {"-h": False, "--help": False}}
        return globalopts.hoist(args, globalopts.TAKES_VALUE, table.get) != args
    except globalopts.MissingValue:
        return True  # the full CLI reports it


def printable_names() -> None:
    """A file name that is not UTF-8 (``\\udce9`` after os.fsdecode) prints escaped, never crashes.

    ``backslashreplace`` writes it as ``\\udce9``: readable, valid UTF-8, and in
    JSON exactly the escape that ``json.loads`` turns back into the same name.
    """
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) in ("strict", "surrogateescape"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (AttributeError, ValueError, OSError):  # not a TextIOWrapper: leave it
                pass


# ------------------------------------------------------ the command line
# The options of ``revgraph.cli._global``: name -> key (values) or (key, value)
# (flags). One table, in ``revgraph.globalopts``, held against the callback.
GLOBAL_VALUES = globalopts.VALUES
GLOBAL_FLAGS = globalopts.FLAGS
HEADS_VALUES = {"--ref": "ref", "--format": "format", "-f": "format"}
HEADS_FLAGS = {"--json": ("json", True), "-v": ("heads_verbose", True),
               "--verbose": ("heads_verbose", True)}  # fmt: skip


def parse_argv(
    argv: Sequence[str],
    command: str,
    values: Mapping[str, str],
    flags: Mapping[str, tuple[str, Any]],
    global_flags: Mapping[str, tuple[str, Any]] = GLOBAL_FLAGS,
) -> dict | None:
    """``[global options] COMMAND [its options]`` as a dict, or None for anything else.

    The global options may also stand among the command's (``check -q``), as
    the full CLI takes them (``revgraph.globalopts``); a command's own option
    of the same spelling wins there (``heads -v``). Since ``values`` and
    ``flags`` may be only part of the command's options, a global spelling
    the command also has must be in them (a test holds check and heads to it).

    Accepts only what click parses the same way: known options, each value
    option at most once (``--select``/``--ignore`` repeat), a value as the next
    argument or after ``--opt=``, never empty and never starting with ``-``
    (click would take it; a person rarely means it). No positional argument,
    no ``--``, no short-option cluster, no ``--help``: those go to the full CLI,
    which also owns every usage error.
    """
    found: dict[str, Any] = {"select": [], "ignore": []}
    table_values, table_flags = GLOBAL_VALUES, global_flags
    seen_command = False
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == command and not seen_command:
            seen_command = True
            table_values, table_flags = values, flags
            continue
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if seen_command and name not in values and name not in flags:
            # A global option after the command: ``revgraph check -q``.
            this_values, this_flags = GLOBAL_VALUES, global_flags
        else:
            this_values, this_flags = table_values, table_flags
        if name in this_flags and not eq:
            key, value = this_flags[name]
            found[key] = value
        elif name in this_values:
            if not eq:
                if not args:
                    return None
                inline = args.pop(0)
            if not inline or inline.startswith("-"):
                return None
            key = this_values[name]
            if key in ("select", "ignore"):
                found[key].append(inline)
            elif key in found:
                return None  # a repeated option: let the real parser decide
            else:
                found[key] = inline
        else:
            return None
    return found if seen_command else None


def options_from(
    *,
    directory: os.PathLike[str] | str | None = None,
    config: os.PathLike[str] | str | None = None,
    name: str | None = None,
    versions: os.PathLike[str] | str | None = None,
    env: str | None = None,
    no_cache: bool = False,
    quiet: bool = False,
):
    """``api.Options`` from the global options, as every path of the CLI builds them."""
    from pathlib import Path

    from revgraph.api import Options

    if directory is not None and os.path.isabs(directory):
        # Needs no current directory: ``-C /abs`` works from one that was deleted.
        base = Path(directory).resolve()
    else:
        base = current_directory()
        if directory is not None:
            base = (base / directory).resolve()
    from_env = False
    if config is None and versions is None and env is None:
        # alembic's own default for -c (``alembic heads`` reads it from the current
        # folder): a job that sets it must not have revgraph read another config.
        config = os.environ.get("ALEMBIC_CONFIG") or None
        from_env = config is not None
    return Options(
        cwd=base,
        config_file=(base / config) if config is not None else None,
        config_from_env=from_env,
        section=name,
        versions=(base / versions) if versions is not None else None,
        env=env,
        no_cache=no_cache,
        quiet=quiet,
    )


def current_directory():
    """``Path.cwd()``, or a ``UsageError`` (exit 2) when there is none to read.

    A shell can stand in a folder that was deleted since (``rm -rf`` and
    recreate, a ``git checkout`` that removed it): ``getcwd`` then fails, and
    that is where the user stands, not a bug of ours. git says "Unable to
    read current working directory" and stops; so does revgraph, unless
    ``-C`` names an absolute folder.
    """
    from pathlib import Path

    from revgraph.errors import UsageError

    try:
        return Path.cwd()
    except OSError as exc:
        why = "it no longer exists" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc))
        raise UsageError(
            f"cannot read the current directory: {why}",
            hint="cd to an existing folder, or run revgraph -C with an absolute path",
        ) from None


# ------------------------------------------------------------- the state
class State:
    """Global options of one invocation, and its two consoles (rich, made when needed)."""

    def __init__(self) -> None:
        self._options = None
        self._option_args: dict = {}
        self.color: bool | None = None
        self.quiet = False
        self.verbose = False
        self.debug = False
        self._console = None
        self._err_console = None

    @property
    def options(self):
        """``api.Options``, made when first asked for from ``set_options``' arguments.

        ``--help`` and ``rules`` never ask: they need no folder, and run even
        where the current directory is gone (``current_directory``).
        """
        if self._options is None:
            self._options = options_from(**self._option_args)
        return self._options

    @options.setter
    def options(self, value) -> None:
        self._options = value

    def set_options(self, **global_options) -> None:
        """The global options ``options_from`` will make ``options`` of, when asked."""
        self._option_args = global_options
        self._options = None

    @property
    def use_color(self) -> bool:
        if self.color is not None:
            return self.color
        return color_by_default()

    @property
    def console(self):
        if self._console is None:
            self._console = self._make_console(stderr=False)
        return self._console

    @property
    def err(self):
        if self._err_console is None:
            self._err_console = self._make_console(stderr=True)
        return self._err_console

    def human_output_on_stderr(self):
        """Within: what is printed on ``console`` goes to stderr, leaving stdout to a
        machine-readable report (``doctor --fix --format json``)."""
        import contextlib

        @contextlib.contextmanager
        def swapped():
            saved = self._console
            self._console = self.err
            try:
                yield
            finally:
                self._console = saved

        return swapped()

    def _make_console(self, *, stderr: bool):
        from rich.console import Console

        from revgraph.render.inert import make_inert
        from revgraph.render.report_text import console_size

        # Control characters in ids, messages and paths are shown, not obeyed (render.inert).
        return make_inert(Console(
            stderr=stderr,
            force_terminal=self.use_color,
            no_color=not self.use_color,
            highlight=False,
            emoji=False,  # a path named "copy:cat:.py" is printed as it is
            soft_wrap=True,
            **console_size(),  # COLUMNS=0 would print nothing
        ))

    def say(self, text: str, *, err: bool = False, style: str | None = None) -> None:
        """One line, as ``console.print(text, markup=False)`` prints it (``style``: the
        same text in that style).

        Without colour, a line rich would print unchanged is written directly,
        so that ``heads`` does not import rich for nothing (``plain_line``).
        """
        if not text.isprintable():  # rarely: not worth the import otherwise
            from revgraph.render.inert import one_line

            # One line: a line break in an id, path or environment name is shown
            # escaped, never starts a line of its own (heads prints ids).
            text = one_line(text)
        # ``text`` is never markup (an environment may be named "a[/]"): a style
        # only colours it, so without colour a plain line is written as is.
        if not self.use_color and plain_line(text):
            stream = sys.stderr if err else sys.stdout
            stream.write(text + "\n")
            stream.flush()  # as rich does after each print
            return
        console = self.err if err else self.console
        # Never markup, even to style it: rich's escape() leaves a backslash
        # before a bracket that opens no tag ("x\\[0"), and markup then eats it.
        console.print(text, markup=False, style=style)

    def workspace(self):
        from revgraph.api import Workspace

        ws = Workspace(self.options)
        if not self.quiet and not getattr(self, "_warned", False):
            self._warned = True  # once per invocation, even if a command opens twice
            for note in ws.project.warnings:
                self.say(f"warning: {note}", err=True)
        return ws


def color_by_default() -> bool:
    """Colour without ``--color``/``--no-color``: on a terminal, unless ``NO_COLOR`` is set or
    ``TERM=dumb`` says the terminal shows escape codes as text (as rich and git read it);
    anywhere with ``FORCE_COLOR`` (a CI log that renders colour), as rich and most tools read it."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "").strip().lower() not in ("", "0", "false", "no"):
        return True
    if os.environ.get("TERM", "").strip().lower() == "dumb":
        return False
    return sys.stdout is not None and sys.stdout.isatty()


# Characters rich prints as they are with markup off, highlighting off, no
# colour, no emoji codes and soft wrap: printable ASCII. Not a tab (expanded),
# not a control code (stripped).
_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F))
_MARKUP = frozenset("[]\\")


def plain_line(text: str, *, markup: bool = False) -> bool:
    """Whether rich prints ``text`` (with ``markup``) exactly as it is, outside a terminal."""
    if os.name == "nt" or not _PLAIN.issuperset(text):
        return False  # Windows consoles are rich's to handle
    if text[-1:].isspace():
        return False  # rich before 14.3 drops a trailing space where it wraps: rich's to print
    return not (markup and not _MARKUP.isdisjoint(text))


# ------------------------------------------------------------ heads, shared
def show_heads(st: State, ref: str | None, as_json: bool) -> int:
    """``revgraph heads``: what both the typer command and the fast path run."""
    from revgraph import api

    with st.workspace() as ws:
        result = api.heads(ws, ref)
        if ref is None:
            warn_missing_versions(st, ws)
        else:
            warn_ref_settings(st, ws, ref)
        for env_heads in result:  # on stderr, so --json output stays parseable
            print_problems(st, env_heads.snapshot.problems)
            warn_unloadable(st, env_heads, len(result) > 1)
        if as_json:
            import json

            # ensure_ascii: nothing for an echo to strip or re-encode
            text = json.dumps({"version": 1, "environments": [e.to_json() for e in result]}, indent=2)
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            return 0
        many = len(result) > 1
        for env_heads in result:
            graph = env_heads.graph
            if many:
                st.say(env_heads.environment, style="bold")
            if not graph.heads:
                st.say("  (no revisions)" if many else "(no revisions)")
            # In alembic's order: the order it loads the files (its heads are an
            # ordered set of what it read). The JSON keeps its sorted contract.
            loaded = {rev.id: index for index, rev in reversed(list(enumerate(env_heads.snapshot.revisions)))}
            for head in sorted(graph.heads, key=lambda rid: loaded.get(rid, len(loaded))):
                rev = graph[head]
                # Like `alembic heads`: the labels of the head's line, inherited ones too.
                labels = graph.labels_of(head)
                label = f" ({', '.join(labels)})" if labels else ""
                # A head another revision depends_on is alembic's "effective head".
                kind = "effective head" if graph.children(head, include_depends=True) else "head"
                line = f"{head}{label} ({kind})"
                if st.verbose:
                    line += f"  {rev.path}  {rev.message or ''}"
                st.say(("  " if many else "") + line)
    return 0


def print_problems(st: State, problems) -> None:
    """One stderr line per file that could not be read statically: ``warning: path:line: reason``."""
    for problem in problems:
        st.say(f"warning: {problem.path}:{problem.line}: {problem.reason}", err=True)


def warn_unloadable(st: State, env_heads, name_it: bool) -> None:
    """One stderr line per reason alembic could not load this environment's history.

    ``heads`` answers all the same (exit 0, the heads it finds): it is informational
    and scripts parse its output; ``check`` fails on each of these (RG104-RG106).
    """
    graph = env_heads.graph
    if not (graph.dangling or graph.depends_by_prefix or graph.label_problems or graph.cycles):
        return  # the usual case: no import of the rules for nothing
    from revgraph.checks.graph import alembic_load_problems

    where = f" (environment {env_heads.environment})" if name_it else ""
    unreadable = [problem.path for problem in env_heads.snapshot.problems]
    for code, reason in alembic_load_problems(graph, unreadable):
        st.say(f"warning: alembic cannot load this history{where}: {reason} — revgraph check explains ({code})", err=True)


def warn_missing_versions(st: State, ws) -> None:
    """Say on stderr why a versions folder reads as "no revisions" (``versions_folder_warnings``)."""
    for warning in versions_folder_warnings(ws):
        st.say(f"warning: {warning}", err=True)


def versions_folder_warnings(ws) -> list[str]:
    """Why a versions folder reads as "no revisions", when a person should hear it: it does
    not exist, or only its subfolders hold revision files (Prefect's ``versions/postgresql``
    and ``versions/sqlite``, one of which its env.py picks per database)."""
    warnings = []
    for env in ws.environments:
        for folder in env.version_locations:
            try:
                shown = folder.relative_to(ws.project.root).as_posix()
            except ValueError:
                shown = str(folder)
            if not folder.is_dir():
                from revgraph.config import broken_link_note

                why = broken_link_note(folder)
                warnings.append(f"versions folder {shown} does not exist{why} (environment {env.name})")
                continue
            nested = [] if env.recursive else _only_subfolders_hold_revisions(folder, env.sourceless)
            if nested:
                warnings.append(
                    f"versions folder {shown} holds no revision file, but its subfolders "
                    f"{', '.join(name + '/' for name in nested)} do (environment {env.name}); alembic reads "
                    "only the folder itself unless recursive_version_locations = true. If env.py picks "
                    "one subfolder per database, name each in [tool.revgraph.environments] (see "
                    "docs/configuration.md)"
                )  # fmt: skip
    return warnings


def _only_subfolders_hold_revisions(folder, sourceless: bool = False) -> list[str]:
    """The subfolders holding revision files, when ``folder`` itself holds none; else [].

    Stops at the folder's first revision file: a folder of 20k revisions costs
    one directory entry, not a listing. (``.pyc`` files count in a sourceless
    environment.)
    """
    suffixes = (".py", ".pyc") if sourceless else (".py",)

    def revision_file(name: str) -> bool:
        return name.endswith(suffixes) and not name.startswith("__init__.")

    subfolders = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if revision_file(entry.name):
                    return []
                if entry.is_dir() and entry.name != "__pycache__":
                    subfolders.append(entry)
        holding = []
        for sub in sorted(subfolders, key=lambda e: e.name):
            with os.scandir(sub.path) as entries:
                if any(revision_file(e.name) for e in entries):
                    holding.append(sub.name)
        return holding
    except OSError:
        return []


def warn_ref_settings(st: State, ws, ref: str | None) -> None:
    """Say so, on stderr, when ``ref`` is read with the working tree's alembic settings
    because its own cannot be used (``api.ref_settings_problem``)."""
    from revgraph import api

    problem = api.ref_settings_problem(ws, ref)
    if problem is not None:
        st.say(f"warning: {problem}", err=True)


def heads_as_json(as_json: bool, fmt: str | None) -> bool:
    """Whether ``heads`` prints JSON, from ``--json`` and ``--format``; a UsageError when
    the format is unknown or the two disagree."""
    if fmt is None:
        return as_json
    from revgraph.errors import UsageError

    if fmt not in ("text", "json"):
        raise UsageError(f"unknown format {fmt!r}; choose one of: text, json")
    if as_json and fmt == "text":
        raise UsageError("--json and --format text ask for two outputs; give one")
    return fmt == "json"


def fast_heads(args: Sequence[str]) -> int | None:
    """``revgraph [globals] heads [--ref REF] [--json | --format F] [-v]`` without typer; None: not plain."""
    opts = parse_argv(args, "heads", HEADS_VALUES, HEADS_FLAGS)
    if opts is None:
        return None
    if opts.get("format") is not None:
        from revgraph.errors import UsageError

        try:
            opts["json"] = heads_as_json(opts.get("json", False), opts["format"])
        except UsageError:
            return None  # typer's command says what is wrong
    st = State()
    st.color = opts.get("color")
    st.quiet = opts.get("quiet", False)
    st.verbose = opts.get("verbose", False) or opts.get("heads_verbose", False)
    return guarded(lambda: _heads(st, opts), debug=False)


def _heads(st: State, opts: dict) -> int:
    st.options = options_from(
        directory=opts.get("directory"), config=opts.get("config"), name=opts.get("name"),
        versions=opts.get("versions"), env=opts.get("env"), no_cache=opts.get("no_cache", False),
        quiet=opts.get("quiet", False),
    )  # fmt: skip
    return show_heads(st, opts.get("ref"), opts.get("json", False))


# ---------------------------------------------------------------- errors
def guarded(body: Callable[[], int], *, debug: bool) -> int:
    """``body()``, with any exception turned into a message and an exit code."""
    try:
        return body()
    except BaseException as exc:
        code = exit_code_for(exc, debug=debug)
        if code is None:
            raise
        return code


def exit_code_for(exc: BaseException, *, debug: bool) -> int | None:
    """Print what ``exc`` means for the user and return the exit code; None: re-raise it.

    A ``RevgraphError`` is the user's: one line (and a hint), its own exit
    code. A stdout that refuses the output (a full disk, closed) is an I/O
    error (2); a reader that went away (broken pipe) ends it quietly (1). Anything
    else is a bug of ours (3), with a "please report" line. ``--debug`` prints
    the traceback first; the exit code stays the same.
    """
    from revgraph.errors import RevgraphError

    if isinstance(exc, KeyboardInterrupt):
        say_error("interrupted")
        return 130
    if isinstance(exc, BrokenPipeError):
        # The reader went away (``revgraph check | head``): quietly, with 1 as rich
        # ends a print to a closed pipe, and as Python's docs advise. Never 0: the
        # output was not all read, and a check must not pass for a clean one.
        return 1
    if not isinstance(exc, Exception):
        return None  # SystemExit and the like go on up
    if debug:
        import traceback

        try:
            traceback.print_exception(type(exc), exc, exc.__traceback__)
        except (AttributeError, ValueError, OSError):
            pass
    if isinstance(exc, RevgraphError):
        say_error(f"revgraph: error: {exc.message}" + (f"\n  hint: {exc.hint}" if exc.hint else ""))
        return exc.exit_code
    if output_failed(exc):
        return cannot_write_output(exc)  # type: ignore[arg-type]
    how = "with the traceback above" if debug else "with the output of the same command run with --debug"
    say_error(f"revgraph: internal error: {type(exc).__name__}: {exc}\n"
              f"  this is a bug in revgraph; please report it {how}")  # fmt: skip
    return 3
