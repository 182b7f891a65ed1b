"""The command line: parse options, call ``api``, pick a renderer, map outcomes to exit codes.

Entered through ``revgraph.entry``, which answers a plain ``heads``, a warm
``check`` and the merge driver before this module (and typer) is imported;
``run_app`` is the rest.

Exit codes (PRODUCT §2): 0 healthy, 1 problems found, 2 revgraph could not
run, 3 a bug of ours. A user's mistake never shows a traceback; ``--debug``
shows one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from revgraph import __version__, entry, globalopts
from revgraph.entry import State
from revgraph.errors import RevgraphError, UsageError
from revgraph.shellwords import shell_word


class _GlobalOptionsAnywhere(typer.core.TyperGroup):
    """The root group: global options are taken after the command name too (``check -q``).

    Before click parses, they are moved in front of the command
    (``globalopts.hoist``) with the option tables click itself holds, the
    callback's and the command's: a command's own option of the same
    spelling wins (``heads -v``, ``fix -n``), values stay values
    (``check --base -q``) and nothing after ``--`` moves. Each command's
    ``--help`` says which global options it takes there.
    """

    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        spellings = [
            [*p.opts, *p.secondary_opts]
            for p in self.params
            if p.param_type_name == "option" and p.name != "version"  # --version is not for a command
        ]
        for command in self.commands.values():
            table = _option_table(command, []) if _takes_global_options(command) else None
            if table is not None:
                line = globalopts.help_line(spellings, table)
                command.epilog = f"{command.epilog}\n\n{line}" if command.epilog else line

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        def command_table(name: str):
            command = self.get_command(ctx, name)
            if command is None or not _takes_global_options(command):
                return None  # click says it is no command, or its line is its own
            names = command.context_settings.get("help_option_names", ctx.help_option_names)
            return _option_table(command, names if command.add_help_option else [])

        group_table = _option_table(self, ctx.help_option_names) or {}
        try:
            args = globalopts.hoist(args, group_table, command_table)
        except globalopts.MissingValue as exc:
            ctx.fail(f"Option {exc.option!r} requires an argument.")  # click's own words
        twice = globalopts.conflicting_values(args, group_table)
        if twice is not None:
            spelling, first, other = twice
            ctx.fail(f"Option {spelling!r} given twice, as {first!r} and as {other!r}: give it once.")
        return super().parse_args(ctx, args)


def _takes_global_options(command) -> bool:
    """No for a command whose unknown options are arguments, or whose options end at its first argument."""
    return not command.ignore_unknown_options and command.allow_interspersed_args


def _option_table(command, help_names) -> dict[str, bool] | None:
    """``command``'s option spellings -> whether each takes a value; None: one ``hoist`` cannot read."""
    table = dict.fromkeys(help_names, False)
    for param in command.params:
        if param.param_type_name != "option":
            continue
        if param.nargs != 1 and not param.is_flag:
            return None  # hoist knows one value per option
        for spelling in (*param.opts, *param.secondary_opts):
            table[spelling] = not (param.is_flag or param.count)
    return table


def _flags_take_no_type() -> None:
    """Keep a flag's row in ``--help`` free of a value type.

    typer 0.29's rich help prints ``<bool>`` beside every flag (``--quiet
    <bool>``, even ``--help <bool>``), as if the flag took a value; typer
    0.12 to 0.28 and click's plain help print nothing there. A flag takes no
    value, so its row shows none, whatever typer version is installed.
    """
    option = typer.core.TyperOption
    shown = getattr(option, "display_type_rich", None)
    if shown is None or getattr(shown, "_revgraph", False):
        return  # an older typer, which shows no type for a flag; or done already

    def display_type_rich(self, ctx):
        if self.is_flag and self.metavar is None:
            return None
        return shown(self, ctx)

    display_type_rich._revgraph = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_take_no_type()


app = typer.Typer(
    name="revgraph",
    help=(
        "Find and fix Alembic revision-graph problems before they land: multiple heads, "
        "duplicate ids, broken down_revisions, edited history, and the conflict a merge "
        "*would* create. Landed revisions never move."
    ),
    epilog="Global options may be given before or after the command name.",
    no_args_is_help=True,
    add_completion=False,
    cls=_GlobalOptionsAnywhere,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


_STATE: State | None = None


def state() -> State:
    assert _STATE is not None
    return _STATE


def _version(value: bool) -> None:
    if value:
        typer.echo(f"revgraph {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    directory: Optional[List[Path]] = typer.Option(
        None, "-C", metavar="DIR",
        help="Run as if revgraph was started in DIR (a second -C is relative to the first, as in git).",
    ),
    config: Optional[Path] = typer.Option(
        None, "-c", "--config", metavar="FILE", help="Alembic config file (alembic.ini or pyproject.toml); default: $ALEMBIC_CONFIG, as for alembic."
    ),
    name: Optional[str] = typer.Option(
        None, "-n", "--name", metavar="NAME", help="Section of the alembic config, as alembic's -n."
    ),
    versions: Optional[Path] = typer.Option(
        None, "--versions", metavar="DIR", help="Read revisions from DIR directly, bypassing config."
    ),
    env: Optional[str] = typer.Option(
        None, "--env", metavar="NAME", help="Only this environment (default: all)."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write any cache (parsed files, results)."),
    color: Optional[bool] = typer.Option(
        None, "--color/--no-color", help="Force colour on or off (default: on a terminal only)."
    ),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Print only what matters."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Print more detail."),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    st = state()
    st.set_options(
        directory=_joined(directory), config=config, name=name, versions=versions, env=env, no_cache=no_cache,
        quiet=quiet,
    )
    st.color = color
    st.quiet = quiet
    st.verbose = verbose
    st.debug = debug or st.debug


def _joined(directories: Optional[List[Path]]) -> Optional[Path]:
    """Several ``-C``: each relative to the one before, unless absolute (git's rule)."""
    joined: Optional[Path] = None
    for directory in directories or ():
        joined = directory if joined is None or directory.is_absolute() else joined / directory
    return joined


# ------------------------------------------------------------------ heads
@app.command()
def heads(
    ref: Optional[str] = typer.Option(
        None, "--ref", metavar="REF", help="Read this commit-ish (branch, tag, sha) without checking it out; `:` reads the index (what is staged)."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON: per environment, its heads, bases, revision count, and each head's branch labels, file and message."),
    fmt: Optional[str] = typer.Option(
        None, "--format", "-f", metavar="FORMAT", help="text or json (json is --json), as the other commands take it."
    ),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Show each head's file and message."),
) -> None:
    """Show the head revisions, like `alembic heads`, from the working tree or any ref.

    Each file's identifiers are read statically (nothing is imported); a file
    whose identifiers cannot be read is named in a warning. A file whose
    identifiers read fine but which does not compile further down is not
    compiled here (that would cost seconds at 20k files): `revgraph check`
    reports it (RG107) for the revisions a branch adds.
    """
    # The same function answers a plain `revgraph heads` before typer loads (revgraph.entry).
    st = state()
    st.verbose = st.verbose or verbose
    raise typer.Exit(entry.show_heads(st, ref, entry.heads_as_json(as_json, fmt)))


def print_problems(problems) -> None:
    """One stderr line per file that could not be read statically: ``warning: path:line: reason``."""
    entry.print_problems(state(), problems)


def warn_report(report) -> None:
    """The warnings ``api.check`` put in its report (base's alembic settings that could not
    be used), on stderr. Such a report is never stored, so a cached one has none."""
    for note in report.extras.get("warnings", ()):
        state().say(f"warning: {note}", err=True)


def warn_missing_versions(ws) -> None:
    """A versions folder that does not exist reads as "no revisions": say why, on stderr."""
    entry.warn_missing_versions(state(), ws)


# ------------------------------------------------------------------ check
FORMATS_HELP = "text, json, github, sarif, junit or markdown."


def _run_check(
    *,
    base: Optional[str],
    fmt: str,
    select: List[str],
    ignore: List[str],
    strict: bool,
    output: Optional[Path],
    db: Optional[str],
    doctor: bool = False,
) -> int:
    from revgraph.render import REPORT_FORMATS
    from revgraph.rules import selected_rules, split_codes

    st = state()
    if fmt not in REPORT_FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(REPORT_FORMATS)}")
    if select and not split_codes(select):  # `--select ""`: check would find nothing, and say "All good"
        raise UsageError("--select names no rule; leave it out to run every rule")
    select = split_codes(select)
    ignore = split_codes(ignore)
    if ignore and not selected_rules(select, ignore):  # `--ignore ALL`: as `--select ""`, "All good" for nothing
        raise UsageError(
            f"{'--select and --ignore leave' if select else '--ignore leaves'} no rule to run",
            hint="ignore only the rules you mean to skip; `revgraph rules` lists them",
        )
    if is_stdout(output):  # `-o -`: stdout, as without -o; never a file named "-"
        output = None
    try:
        return _check_and_render(st, base=base, fmt=fmt, select=select, ignore=ignore, strict=strict,
                                 output=output, db=db, doctor=doctor)  # fmt: skip
    except RevgraphError as exc:
        if fmt == "github" or (fmt in ("junit", "sarif") and output is not None):
            _report_failure(exc, fmt, output)
        raise


def _report_failure(exc: RevgraphError, fmt: str, output: Optional[Path]) -> None:
    """A check that could not run (exit 2: a shallow clone, an unknown base) says why in
    its report too, not only in the job's log: a GitHub annotation (on stdout, or in
    ``-o FILE``), and in JUnit or SARIF a ``-o FILE`` document, so a CI's test report or
    code-scanning upload shows it (a tester: no file at all, and the upload step failed
    on its own). Best effort: the error stands."""
    from revgraph.render import junit, sarif
    from revgraph.render.github import escape_data

    text = exc.message + (f"\nhint: {exc.hint}" if exc.hint else "")
    body = {
        "github": lambda: f"::error title=revgraph could not run::{escape_data(text)}\n",
        "junit": lambda: junit.render_failure(text),
        "sarif": lambda: sarif.render_failure(text),
    }[fmt]()
    if output is None:
        entry.write_document(body)
    else:
        try:
            write_output(output, body.encode("utf-8", "backslashreplace"))
        except RevgraphError:
            pass  # (the output itself may be what failed)
    if fmt == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        hint = f"\n\n{exc.hint}" if exc.hint else ""
        _append_step_summary(os.environ["GITHUB_STEP_SUMMARY"], f"### revgraph could not run\n\n{exc.message}{hint}\n")


def _check_and_render(st, *, base, fmt, select, ignore, strict, output, db, doctor) -> int:
    from revgraph import api
    from revgraph.render import render_report
    from revgraph.rules import selected_rules

    with st.workspace() as ws:
        report = api.check(ws, base=base, select=select, ignore=ignore, db_url=db)
        warn_missing_versions(ws)
        warn_report(report)
        mermaid = None
        if fmt in ("github", "markdown"):
            mermaid = _review_mermaid(ws, report)
        text = render_report(
            fmt,
            report,
            color=st.use_color and output is None,
            verbose=st.verbose or doctor,
            strict=strict,
            mermaid=mermaid,
            doctor=doctor,
            selected=selected_rules(select, ignore),
            quiet=st.quiet,
            every_note=st.verbose,
        )
        _emit(text, output, document=fmt != "text")
        if doctor and fmt == "text" and output is None:
            from revgraph.gitops.install import setup_notes

            for note in setup_notes(ws):  # for a person: what keeps git from helping
                st.console.print(f"setup: {note}", markup=False)
        if output is not None and not st.quiet:
            # As `graph -o` says it; on stderr, where a machine format leaves room.
            st.say(f"wrote {output}", err=True)
        if output is None and mermaid is None and not doctor and db is None and not st.use_color:
            from revgraph.resultcache import remember_rendered

            remember_rendered(ws, report, text, fmt=fmt, verbose=st.verbose, strict=strict,
                              select=select, ignore=ignore, quiet=st.quiet)  # fmt: skip
        if fmt == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
            from revgraph.render.github import github_step_summary

            _append_step_summary(os.environ["GITHUB_STEP_SUMMARY"], github_step_summary(report, mermaid))
    return 1 if report.failed(strict) else 0


def _append_step_summary(path: str, text: str) -> None:
    """Append ``text`` to ``$GITHUB_STEP_SUMMARY``; one that cannot be written is a warning.

    The summary is an extra: the job gates on the exit code and the
    annotations on stdout, so a missing folder or a folder named there must
    not turn the check's 0 or 1 into another code. A relative path is taken
    from ``-C DIR``, as ``-o`` is.
    """
    st = state()
    try:
        with open(st.options.cwd / path, "a", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(text)
    except OSError as exc:
        # Even with -q: the user asked for a summary and gets none.
        st.say(f"warning: cannot write the step summary to {path} ($GITHUB_STEP_SUMMARY): "
               f"{exc.strerror or exc}", err=True)  # fmt: skip


def _review_mermaid(ws, report) -> Optional[dict]:
    """Mermaid of --focus new per environment (name -> diagram), for PR comments and job summaries."""
    from revgraph import api
    from revgraph.render.mermaid import mermaid_for_review

    parts = {}
    for ctx in report.extras.get("contexts", {}).values():
        view = api.graph_view(ws, ctx.environment, ctx=ctx, findings=report.findings)
        parts[ctx.environment.name] = mermaid_for_review(view)
    return parts or None


def _emit(text: str, output: Optional[Path], *, document: bool = False) -> None:
    """``text`` to ``-o FILE`` (UTF-8), or to stdout; ``document``: a machine format,
    UTF-8 on stdout too (``entry.write_document``)."""
    if output is not None:
        text = text if text.endswith("\n") else text + "\n"
        write_output(output, text.encode("utf-8", "backslashreplace"))
        return
    if document:
        entry.write_document(text)
        return
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    sys.stdout.flush()


def _refuse_unknown_strategy(strategy: Optional[str]) -> None:
    """``--strategy`` of fix and doctor, refused before the project is looked for: a typo
    is the first thing to say, anywhere (the api refuses one from elsewhere in its words)."""
    from revgraph.config import STRATEGIES

    if strategy is not None and strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}; choose {' or '.join(STRATEGIES)}")


def is_stdout(output: Optional[Path]) -> bool:
    """``-o -``: stdout, as for most command-line tools, never a file named "-"."""
    return output is not None and str(output) == "-"


def write_output(output: Path, data: bytes) -> None:
    """``-o FILE``: write ``data`` there, or say why it cannot be (exit 2), never a traceback.

    A relative FILE is taken from ``-C DIR``, as ``-c`` and ``--versions``
    are (and as git's ``-C`` does): "run as if started in DIR". Messages
    name it as given, relative to DIR then.
    """
    from revgraph.errors import WriteError

    target = state().options.cwd / output
    if target.is_dir():
        raise WriteError(f"cannot write {output}: it is a folder", hint="name a file inside it")
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise WriteError(f"cannot write {output}: {exc.strerror or exc}") from None


@app.command()
def check(
    base: Optional[str] = typer.Option(None, "--base", metavar="REF", help="The branch this will merge into (default: \\[tool.revgraph] base, CI variables, origin/HEAD, main, master)."),
    fmt: str = typer.Option("text", "--format", "-f", metavar="FORMAT", help=FORMATS_HELP),
    select: List[str] = typer.Option([], "--select", metavar="CODES", help="Only these rules (prefixes allowed: RG1, RG10)."),
    ignore: List[str] = typer.Option([], "--ignore", metavar="CODES", help="Skip these rules."),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail too."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE", help="Write the report to FILE (- is stdout)."),
    db: Optional[str] = typer.Option(None, "--db", metavar="URL", help="Also compare with a database's alembic_version (SQLAlchemy URL)."),
) -> None:
    """CI gate: every rule on HEAD and on the predicted merge with base. Exit 1 on errors."""
    raise typer.Exit(
        _run_check(base=base, fmt=fmt, select=select, ignore=ignore, strict=strict, output=output, db=db)
    )


# ------------------------------------------------------------------ rules
@app.command()
def rules(code: Optional[str] = typer.Argument(None, metavar="[CODE]", help="A rule code or name, such as RG102 or multiple-heads.")) -> None:
    """List the rules, or explain one with an example and its fix."""
    from revgraph.render.report_text import render_rule_text, render_rules_text
    from revgraph.rules import RULES, find_rule

    st = state()
    if code is None:
        text = render_rules_text(list(RULES.values()), color=st.use_color)
    else:
        text = render_rule_text(find_rule(code), color=st.use_color)
    _emit(text, None)


# ------------------------------------------------------------------- diff
@app.command()
def diff(
    old: str = typer.Argument(..., metavar="BASE", help="The older snapshot (a ref; `:` is the index)."),
    new: Optional[str] = typer.Argument(None, metavar="[HEAD]", help="The newer snapshot (default: the working tree; `:` is the index)."),
    fmt: str = typer.Option("text", "--format", "-f", metavar="FORMAT", help="text, json, markdown (a PR comment) or github (annotations)."),
) -> None:
    """Revision-level diff between two snapshots: added, removed, edited, re-pointed, declared twice.

    Also lists the files either snapshot cannot read (exit 1 when there is one)."""
    import json

    from revgraph import api

    st = state()
    if fmt in ("sarif", "junit"):
        raise UsageError(
            f"diff --format takes text, json, markdown or github: {fmt} reports findings of rules, "
            "and a diff has none",
            hint=f"revgraph check --format {fmt} reports the findings",
        )
    if fmt not in ("text", "json", "markdown", "github"):
        raise UsageError("diff --format takes text, json, markdown or github")
    with st.workspace() as ws:
        diffs = api.diff(ws, old, new)
        for ref in dict.fromkeys((old, new)):
            warn_ref_settings(ws, ref)
    # A file revgraph cannot read on one side may hold a revision the lists leave
    # out, as RG107 fails `check`: "problems found" (PRODUCT §2), so a script does
    # not take the diff for the whole answer. One both sides fail on the same way
    # is listed, but changed nothing: `diff HEAD HEAD` is not a failure.
    code = 1 if any(len(u.sides) == 1 for d in diffs for u in d.unreadable) else 0
    if fmt == "json":
        _emit(json.dumps({"version": 1, "environments": [d.to_json() for d in diffs]}, indent=2), None, document=True)
        raise typer.Exit(code)
    if fmt in ("markdown", "github"):
        from revgraph.render import diffview

        def unreadable_line(unreadable) -> str:
            return _unreadable_line(unreadable, old, new)

        from revgraph.sources import INDEX_REF

        names = [diffview.snapshot_markdown(_snapshot_name(ref), is_ref=ref not in (None, INDEX_REF)) for ref in (old, new)]
        comment = diffview.render_markdown(diffs, *names, unreadable_line)
        if fmt == "markdown":
            _emit(comment, None, document=True)
        else:
            _emit(diffview.render_github(diffs, unreadable_line), None, document=True)
            if os.environ.get("GITHUB_STEP_SUMMARY"):
                _append_step_summary(os.environ["GITHUB_STEP_SUMMARY"], comment)
        raise typer.Exit(code)
    from rich.markup import escape as escape_markup

    from revgraph.render.inert import one_line

    def escape(text: str) -> str:
        # An id is any string: "[/red]" must not close a tag, nor a line break start a line.
        return escape_markup(one_line(text))

    for d in diffs:
        if len(diffs) > 1:
            st.console.print(f"[bold]{escape(d.environment)}[/bold]")
        if d.empty:
            st.console.print("no revision changes")
        for rid in d.added:
            st.console.print(f"[green]+ {escape(rid)}[/green] added")
        for rid in d.removed:
            st.console.print(f"[red]- {escape(rid)}[/red] removed")
        for rid in d.edited:
            # Comments, docstrings or layout only: what check and audit call cosmetic (RG203).
            how = " (comments, docstrings or layout only)" if rid in d.cosmetic else ""
            st.console.print(f"[yellow]~ {escape(rid)}[/yellow] edited{how}")
        for rid, was, now in d.repointed:
            was_text, now_text = escape(", ".join(was) or "None"), escape(", ".join(now) or "None")
            st.console.print(f"[magenta]> {escape(rid)}[/magenta] re-pointed: {was_text} -> {now_text}")

        for rid, paths in d.duplicated:
            st.console.print(f"[red]! {escape(rid)}[/red] declared by {len(paths)} files: {escape(', '.join(paths))}")
        for rid, paths in d.deduplicated:
            st.console.print(f"[green]= {escape(rid)}[/green] declared by fewer files: {escape(', '.join(paths))} removed")
        for unreadable in d.unreadable:
            st.console.print(f"[red]?[/red] {escape(_unreadable_line(unreadable, old, new))}")
    raise typer.Exit(code)


def _unreadable_line(unreadable, old: str, new: str | None) -> str:
    """``path:line: cannot be read statically: reason (in main; ...)``: RG107's words, the snapshot
    named as the user gave it, and why an id the other one reads there is in neither list."""
    name = {"base": _snapshot_name(old), "head": _snapshot_name(new)}
    where = " and ".join(dict.fromkeys(name[side] for side in unreadable.sides))
    note = ""
    if unreadable.revision is not None:
        (side,) = unreadable.sides
        other, listed = ("head", "added") if side == "base" else ("base", "removed")
        note = f"; {name[other]} reads {unreadable.revision} from it, so it is not listed as {listed}"
    return f"{unreadable.problem.describe()} (in {where}{note})"


def _snapshot_name(ref: str | None) -> str:
    from revgraph.sources import INDEX_REF

    return "the working tree" if ref is None else "the index" if ref == INDEX_REF else ref


# ----------------------------------------------------------------- doctor
@app.command()
def doctor(
    base: Optional[str] = typer.Option(None, "--base", metavar="REF", help="The branch this will merge into (default: \\[tool.revgraph] base, CI variables, origin/HEAD, main, master)."),
    fix_: bool = typer.Option(False, "--fix", help="Apply the safe fixes (a rebase that moves only new revisions, the docstrings, a missing or stale lock file)."),
    strategy: Optional[str] = typer.Option(None, "--strategy", metavar="STRATEGY", help="rebase (default) or merge, for --fix."),
    fmt: str = typer.Option("text", "--format", "-f", metavar="FORMAT", help=FORMATS_HELP),
    db: Optional[str] = typer.Option(None, "--db", metavar="URL", help="Also compare with a database's alembic_version (SQLAlchemy URL)."),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail too."),
) -> None:
    """For a person: what is wrong, why it matters, and the exact command that fixes it."""
    st = state()
    _refuse_unknown_strategy(strategy)  # with or without --fix (which may find nothing to fix)
    if fix_ and fmt != "text":
        with st.human_output_on_stderr():  # stdout holds the report alone
            _doctor_fix(base=base, strategy=strategy, db=db)
    elif fix_:
        _doctor_fix(base=base, strategy=strategy, db=db)
    raise typer.Exit(
        _run_check(base=base, fmt=fmt, select=[], ignore=[], strict=strict, output=None, db=db, doctor=True)
    )


def _doctor_fix(*, base: Optional[str], strategy: Optional[str], db: Optional[str]) -> None:
    """``doctor --fix``: the docstring repair and the rebase the findings ask for, each on its
    own, and the lock file RG401 asks to write when the graph needs no more than docstrings.

    A refused rebase (base not merged in yet, say) is reported and does not
    stop the docstring repair, nor the report that follows. Each step reads
    the files afresh: the one before may have rewritten them.
    """
    from revgraph import api
    from revgraph.errors import FixRefused

    st = state()
    with st.workspace() as ws:
        report = api.check(ws, base=base, db_url=db)
    # Each fix line as (subcommand, its arguments), past `revgraph` and the global
    # options a project chosen by -c, -n, --versions or --env spells into it.
    fixes = [(f.code, _subcommand(f.fix)) for f in report.findings if f.fix]
    wanted = {args for _, (sub, args) in fixes if sub == "fix"}
    docstrings_only = wanted <= {("--docstrings",)}
    # The lock file RG401 asks for, only over a graph with no error of its own
    # (RG1xx: competing heads, duplicates, dangling or unreadable files), which
    # the lock would record as it is.
    relock = any(code == "RG401" and sub == "lock" for code, (sub, _) in fixes) and not any(
        f.code.startswith("RG1") for f in report.findings
    )
    if not wanted and not relock:
        st.console.print(_nothing_for_fix(report))
        return
    steps = []
    if ("--docstrings",) in wanted:
        steps.append({"docstrings": True})
    if not docstrings_only:
        # A finding that needs the rebase where the project's default strategy is
        # the merge says so (`--strategy rebase`, see CheckContext.fix_command).
        spelled = strategy is None and any("--strategy" in args and "rebase" in args for args in wanted)
        steps.append({"strategy": "rebase" if spelled else strategy})
    for options in steps:
        try:
            with st.workspace() as ws:
                _print_fix(api.fix(ws, base=base, db_url=db, **options))
        except FixRefused as exc:
            st.err.print(f"fix refused: {exc.message}", markup=False)
            if exc.hint:
                st.err.print(f"  hint: {exc.hint}", markup=False)
    if relock and docstrings_only:
        # The graph needs nothing but docstrings (which leave the heads, and the lock
        # file, alone); the lock file is missing or stale (RG401): writing it from the
        # graph is as safe as the `revgraph lock` the finding names.
        with st.workspace() as ws:
            for status in api.lock(ws):
                if not status.current:
                    st.console.print(f"{status.path}: written", markup=False)
    first = _merge_first(report)
    if first:
        st.console.print(f"still to do: run `{first[0]}`, then `{first[1]}`", markup=False)


def _subcommand(command: str) -> tuple[str, tuple[str, ...]]:
    """``("fix", ("--docstrings",))`` of ``revgraph --config db.ini fix --docstrings``; ``("", ())``
    for a line that is no single revgraph command (``git merge main; revgraph fix``)."""
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:
        return "", ()
    if not words or words[0] != "revgraph" or ";" in command:
        return "", ()
    i = 1
    while i < len(words) and words[i].startswith("-"):  # global options, each with its value
        i += 2
    return (words[i], tuple(words[i + 1:])) if i < len(words) else ("", ())


def _merge_first(report) -> Optional[tuple[str, str]]:
    """The step a finding's fix needs before ``revgraph fix`` (RG102: merging base in), if
    any, and the fix command that follows it."""
    for finding in report.findings:
        first, sep, then = (finding.fix or "").partition("; revgraph fix")
        if sep:
            return first, f"revgraph fix{then}"
    return None


def _nothing_for_fix(report) -> str:
    """Why ``doctor --fix`` wrote nothing: RG102's fix needs base merged in first."""
    first = _merge_first(report)
    if first:
        return f"nothing for --fix to do yet: run `{first[0]}` first, then `{first[1]}`"
    return "nothing for --fix to do"


# -------------------------------------------------------------------- fix
@app.command()
def fix(
    strategy: Optional[str] = typer.Option(None, "--strategy", "-s", metavar="STRATEGY", help="rebase: re-point the new revisions onto the landed head (default). merge: write a merge revision."),
    base: Optional[str] = typer.Option(None, "--base", metavar="REF", help="What has landed (default: \\[tool.revgraph] base, CI variables, origin/HEAD, main, master)."),
    onto: Optional[str] = typer.Option(None, "--onto", metavar="REF", help="Rebase onto this ref's heads (default: base)."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Print the diff; write nothing."),
    message: Optional[str] = typer.Option(None, "-m", "--message", metavar="TEXT", help="Message of the merge revision (--strategy merge; default: \"merge heads\", where alembic merge writes \"empty message\")."),
    rev_id: Optional[str] = typer.Option(None, "--rev-id", metavar="ID", help="Id of the merge revision (default: a fresh alembic id)."),
    db: Optional[str] = typer.Option(None, "--db", metavar="URL", help="Revisions applied in this database never move."),
    no_stage: bool = typer.Option(False, "--no-stage", help="During a merge/rebase, do not `git add` what changed."),
    docstrings: bool = typer.Option(False, "--docstrings", help="Only repair docstrings whose Revision ID:/Revises: disagree with the code (RG402)."),
) -> None:
    """Repair the graph. Landed revisions (on base, protected refs, or in --db) never move.

    Exits 1 when the graph would still have competing heads (RG101) after the
    fix, with or without --dry-run; what could be fixed is still written.
    """
    from revgraph import api

    st = state()
    _refuse_unknown_strategy(strategy)
    with st.workspace() as ws:
        warn_base_ref_settings(ws, base)  # before fix refuses: a refusal may come from it
        warn_ref_settings(ws, onto)
        outcome = api.fix(
            ws, strategy=strategy, base=base, onto=onto, dry_run=dry_run,
            message=message, rev_id=rev_id, db_url=db, stage=not no_stage,
            docstrings=docstrings,
        )
    unused = [name for name, value in (("-m/--message", message), ("--rev-id", rev_id)) if value is not None]
    if unused and outcome.plan.strategy != "merge":
        # Said, not refused: the strategy may come from the config, and the rebase still ran.
        verb, it = ("name", "them") if len(unused) > 1 else ("names", "it")
        st.say(f"warning: {' and '.join(unused)} only {verb} a merge revision (--strategy merge); "
               f"the {outcome.plan.strategy} strategy ignored {it}", err=True)  # fmt: skip
    raise typer.Exit(_print_fix(outcome))


def warn_ref_settings(ws, ref: Optional[str]) -> None:
    """``entry.warn_ref_settings`` (shared with the fast path of ``heads``)."""
    entry.warn_ref_settings(state(), ws, ref)


def warn_base_ref_settings(ws, base: Optional[str]) -> None:
    """``warn_ref_settings`` for the base ``--base`` (or the defaults) resolves to."""
    try:
        found = ws.resolve_base(base, required=False)
    except RevgraphError:
        return  # the command itself reports an unknown base
    warn_ref_settings(ws, found.ref if found is not None else None)


def _print_fix(outcome) -> int:
    """What the fix did (or, with --dry-run, would do); returns fix's exit code.

    1 when competing heads remain (PRODUCT §2: problems found): a script's
    ``revgraph fix && git commit`` must not take a half-fixed graph for a
    fixed one. The reasons the plan left revisions alone are then given with
    the heads they left, on stderr, instead of among the notes.
    """
    st = state()
    plan = outcome.plan
    c = st.console
    remaining = list(getattr(outcome, "remaining", ()))
    reasons = {reason for left in remaining for reason in left.reasons}
    notes = [note for note in plan.notes if note not in reasons]
    if plan.is_empty:
        # Why the rebase left revisions where they are: worth saying when heads
        # remain; on a healthy graph (a project outside git, where every revision
        # is new, has a "new base") only with -v.
        for note in notes if remaining or st.verbose else ():
            c.print(note, markup=False)
        if remaining:
            # The report on stdout names the way on too; stderr says why fix failed.
            joins = any(left.merge_joins for left in remaining) and plan.strategy != "merge"
            then = ": `revgraph fix --strategy merge` joins the heads that remain" if joins else ""
            c.print(f"nothing for --strategy {plan.strategy} to change{then}", markup=False)
            _print_held_locks(outcome)
        elif plan.strategy == "docstrings":
            c.print("nothing to fix: every docstring agrees with its revision", markup=False)
        else:
            c.print("nothing to fix: the graph already has one head per line", markup=False)
        if not outcome.dry_run:
            _print_next(outcome, remaining)  # mid-merge, a file resolved by hand may still wait for `git add`
        return _print_remaining(outcome, remaining)
    diff_text = plan.diff()
    if outcome.dry_run or not st.quiet:
        _print_diff(diff_text)
    for item in plan.renumbered:
        c.print(item.note(renamed=any(old == item.path for old, _ in outcome.renamed), here=outcome.here),
                markup=False)  # fmt: skip
    renamed = dict(outcome.renamed)  # where fix's `git mv` put a renumbered file
    for move in plan.moves:
        c.print(
            f"moved {move.revision}: {', '.join(move.old_down) or 'None'} -> {', '.join(move.new_down)}"
            f"  ({renamed.get(move.path, move.path)})",
            markup=False,
        )
    for note in notes:
        c.print(note, markup=False)
    _print_held_locks(outcome)
    if outcome.landed_source and not st.quiet:
        c.print(f"landed revisions (never moved) came from: {outcome.landed_source}", markup=False)
    # As alembic says "Creating directory .../2026/11": the deepest of those made.
    made = outcome.created_folders
    folders = [f for f in made if not any(other.startswith(f + "/") for other in made)]
    if outcome.dry_run:
        for folder in folders:
            c.print(f"would create folder {folder}", markup=False)
        c.print("dry run: nothing was written", markup=False)
        return _print_remaining(outcome, remaining)
    for folder in folders:
        c.print(f"created folder {folder}", markup=False)
    c.print(f"wrote {len(outcome.written)} file(s)", markup=False)
    if outcome.staged:
        c.print(f"staged: {' '.join(outcome.staged)}", markup=False)
    for path in outcome.staged_yours:
        shown = shell_word(outcome.here(path))
        c.print(f"note: {shown} also held changes of yours that were not staged; they are staged with "
                f"the fix (`git diff --cached {shown}` shows all of it)", markup=False)  # fmt: skip
    _print_next(outcome, remaining)
    return _print_remaining(outcome, remaining)


def _print_held_locks(outcome) -> None:
    """Lock files fix left alone because heads still compete in the middle of an operation."""
    for path in outcome.locks_held:
        state().console.print(
            f"{outcome.here(path)} is left as it is: recording competing heads would settle git's conflict "
            "and let the operation commit them", markup=False,
        )  # fmt: skip


def _print_next(outcome, remaining) -> None:
    """The step after fix: the operation's continue command, or the files still unmerged."""
    c = state().console
    words = lambda paths: " ".join(shell_word(outcome.here(path)) for path in paths)  # noqa: E731
    if outcome.operation is not None:
        held = outcome.locks_held
        then = "once one head per line is left, " if remaining else ""
        if held:  # the fix that joins the heads rewrites them
            then = f"once one head per line is left (the fix that joins them rewrites {words(held)}), "
        fixes = dict(outcome.other_locks)  # another project's (or environment's) lock file
        for command in dict.fromkeys(fixes.values()):
            paths = [path for path, its in fixes.items() if its == command]
            then += f"run `{command}` ({words(paths)}), then "
        others = [path for path in outcome.unresolved if path not in held and path not in fixes]
        if others:
            then += f"resolve and `git add` what git still holds in conflict ({words(others)}), then "
        # --no-stage: the operation commits what is staged, and these are not.
        moved_away = dict(outcome.renamed)  # staged under the new name fix gave it (git mv)
        unstaged = [p for p in outcome.written
                    if p not in outcome.staged and p not in moved_away and p not in outcome.unresolved]  # fmt: skip
        if unstaged:
            then += f"`git add` what fix wrote ({words(unstaged)}), then "
        c.print(f"next: {then}{outcome.operation.continue_command}", markup=False)
    elif outcome.unresolved:
        # No operation to continue (a conflicted `git stash pop`, `git checkout -m`): git
        # still lists what fix resolved as unmerged, and commits nothing until it is added.
        shown = words(outcome.unresolved)
        c.print(f"next: git still lists {shown} as unmerged; `git add` it once it looks right", markup=False)


def _print_remaining(outcome, remaining) -> int:
    """Per environment, the heads still competing, why, and what joins them; the exit code."""
    if not remaining:
        return 0
    st = state()
    err = st.err
    several_envs = len(getattr(outcome, "environments", ())) > 1
    for left in remaining:
        finding = left.finding
        named = ", ".join(
            f"{rid} ({loc.path}:{loc.line})" for rid, loc in zip(finding.revisions, finding.locations)
        )
        where = f" in environment {left.environment}" if several_envs else ""
        if outcome.plan.is_empty:
            state_of = "remain"
        elif outcome.dry_run:
            state_of = "would remain after this fix"
        else:
            state_of = "remain after this fix (the files above are written)"
        err.print(
            f"revgraph: error: {len(finding.revisions)} heads {state_of}{where}, "
            f"competing for `upgrade head` (RG101): {named}",
            markup=False,
        )
        for reason in left.reasons:
            err.print(f"  not moved: {reason}", markup=False)
        err.print(f"  hint: {_joining_hint(outcome, left)}", markup=False)
    return 1


def _joining_hint(outcome, left) -> str:
    """The command that joins the heads, or why none of fix's strategies will,
    with the global options that chose the environment."""
    from revgraph.api import spell_commands

    return spell_commands(_joining_words(outcome, left), outcome.command)


def _joining_words(outcome, left) -> str:
    if left.merge_joins and outcome.plan.strategy != "merge":
        return "`revgraph fix --strategy merge` joins them with a merge revision"
    if left.merge_unavailable and outcome.plan.strategy != "merge":
        return left.merge_unavailable  # a merge revision would, but cannot be rendered here
    return (
        "a head on a branch label that has not landed competes with base's line until it "
        "lands; if the extra line is on purpose, set `allow_heads` in [tool.revgraph] "
        "(`revgraph rules RG101` explains)"
    )


def _print_diff(diff_text: str) -> None:
    st = state()
    if not st.use_color:
        # Byte-exact diff text, on whichever stream the console prints to now.
        out = sys.stderr if st.console.stderr else sys.stdout
        out.write(diff_text if diff_text.endswith("\n") else diff_text + "\n")
        return
    from rich.syntax import Syntax

    st.console.print(Syntax(diff_text, "diff", theme="ansi_dark", background_color="default"))


# ------------------------------------------------------------------- lock
@app.command()
def lock(
    check_only: bool = typer.Option(False, "--check", help="Verify only: exit 1 when the lock file is stale or missing."),
) -> None:
    """Write (or verify) the heads lock file that makes git stop at a conflicting merge."""
    from revgraph import api

    st = state()
    with st.workspace() as ws:
        statuses = api.lock(ws, check_only=check_only)
        # pre-commit (which sets PRE_COMMIT=1 for its hooks) fails a hook that changes
        # a tracked file, and sees nothing of a new one: a lock file the hook created
        # passed, and no commit ever took it.
        unseen = _untracked(ws, [s.path for s in statuses]) if os.environ.get("PRE_COMMIT") == "1" else []
    if not statuses:
        raise UsageError("no lock file is configured for the selected environment(s)")
    stale = bool(unseen)
    for path, here in unseen:
        st.err.print(f"{path}: git does not track it, so this commit leaves it out: `git add {shell_word(here)}` "
                     "and commit again", markup=False)  # fmt: skip
    for status in statuses:
        if status.current:
            if not st.quiet:
                st.console.print(f"{status.path}: up to date", markup=False)
        elif check_only:
            stale = True
            why = "missing" if not status.existed else "holds git conflict markers" if status.conflicted else "stale"
            if status.unwritable is not None:
                advice = f"`revgraph lock` cannot write it: {status.unwritable}"
            elif status.missing_parent is not None:
                advice = f"during the {status.operation}: {status.missing_parent}"
            elif status.joining is not None:
                # `revgraph lock` would record the competing heads and let the operation commit them.
                advice = f"during the {status.operation} run `{status.joining}`"
            else:
                advice = "run `revgraph lock`"
            st.console.print(f"{status.path}: {why} (RG401); {advice}", markup=False)
        elif not st.quiet:
            st.console.print(f"{status.path}: written", markup=False)
        if status.competing:
            # A conflicted lock "resolved" by rewriting it would let the fork through.
            # Which command joins them depends on what has landed, which only a
            # check against base knows (on base itself, the rebase refuses).
            joins = (
                "no fix joins them while a parent is missing" if status.missing_parent
                else f"`{status.joining}` joins them" if status.joining else "`revgraph check` says what joins them"
            )  # fmt: skip
            st.say(
                f"warning: {status.path}: the graph has heads that compete on one line "
                f"({', '.join(status.competing)}): `alembic upgrade head` refuses them; {joins}",
                err=True,
            )
    raise typer.Exit(1 if stale else 0)


def _untracked(ws, paths: list[str]) -> list[tuple[str, str]]:
    """Those of ``paths`` (relative to the repository's top) that exist, and that git
    neither tracks (nor has staged) nor ignores (an ignored lock file is the project's
    choice); each as a command run where revgraph started (after -C) names it."""
    repo = ws.maybe_repo()
    if repo is None:
        return []
    unseen = []
    for path in paths:
        full = ws.root / path
        if not full.is_file():
            continue
        listed = repo.git("ls-files", "--error-unmatch", "--", str(full), ok=range(256))
        if listed.returncode == 0:
            continue
        # check-ignore refuses the literal pathspec magic revgraph's git calls get (exit 128).
        ignored = repo.git("check-ignore", "-q", "--", str(full), env={"GIT_LITERAL_PATHSPECS": "0"}, ok=range(256))
        if ignored.returncode != 1:
            # 0: ignored. 128: git will not answer for it (a lock file inside a
            # submodule, tracked there): `git add` here could not take it either.
            continue
        unseen.append((path, ws.command_path(path)))  # as fix commands name files: from where it ran
    return unseen


# ----------------------------------------------------------- merge-driver
@app.command("merge-driver")
def merge_driver(
    ancestor: str = typer.Argument(..., metavar="%O"),
    ours: str = typer.Argument(..., metavar="%A"),
    theirs: str = typer.Argument(..., metavar="%B"),
    path: Optional[str] = typer.Argument(None, metavar="%P"),
    marker_size: Optional[str] = typer.Argument(None, metavar="%L"),
) -> None:
    """What git calls to merge the heads lock file (set up by `revgraph install --merge-driver`).

    Exits 0 with the merged content when the merge leaves one head per line;
    otherwise 1, leaving a conflict that names both sides' new revisions.
    """
    from revgraph.gitops.driver import main as driver_main

    args = [ancestor, ours, theirs] + ([path] if path else []) + ([marker_size] if marker_size else [])
    raise typer.Exit(driver_main(args))


# ------------------------------------------------------------------- main
def main(argv: Optional[List[str]] = None) -> None:
    sys.exit(run(argv))


def run(argv: Optional[List[str]] = None) -> int:
    """Run the CLI and return the exit code (never raises for user errors).

    The fast paths of ``revgraph.entry`` first, as the console script does,
    then ``run_app``.
    """
    return entry.run(argv)


def run_app(args: List[str]) -> int:
    """The typer app on ``args``: usage errors are click's, the rest ``entry.exit_code_for``."""
    global _STATE
    # typer >= 0.22 vendors click: find its exception base through a public name.
    click_exception = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

    _STATE = State()
    _STATE.debug = "--debug" in args
    columns = os.environ.get("COLUMNS")
    from revgraph.render.report_text import console_size

    if columns is not None and console_size():
        # COLUMNS=0: rich would print typer's help and usage errors in 0 columns (nothing).
        del os.environ["COLUMNS"]
    try:
        return _run_app(args, click_exception)
    finally:
        if columns is not None:
            os.environ["COLUMNS"] = columns


def _run_app(args: List[str], click_exception: type) -> int:
    assert _STATE is not None
    try:
        rv = app(args=args, prog_name="revgraph", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        sys.stderr.write("aborted\n")
        return 130
    except click_exception as exc:
        if _STATE.debug:  # the traceback, and the exit code it would have without --debug
            import traceback

            traceback.print_exc()
        exc.show()
        return 0 if type(exc).__name__ == "NoArgsIsHelpError" else 2
    except BaseException as exc:
        code = entry.exit_code_for(exc, debug=_STATE.debug)
        if code is None:
            raise
        return code


def _register_command_modules() -> None:
    import importlib

    for name in ("install", "audit", "collisions", "graph", "demo"):
        try:
            module = importlib.import_module(f"revgraph.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"revgraph.commands.{name}":
                raise
            continue
        module.register(app)


_register_command_modules()
