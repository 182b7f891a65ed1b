"""Findings for a person at a terminal: ruff-style lines grouped by severity.

    errors (1)
    migrations/versions/b7d913_add_email.py:5: RG101 two heads: b7d913, c42e5a
        fix: revgraph fix

    1 error in 1 environment

Colour only when the caller says the console is a terminal; rich is imported here,
not at module top, so commands that never print a report never load it.
"""

from __future__ import annotations

import os
from io import StringIO
from typing import TYPE_CHECKING, Iterable

from revgraph.findings import Finding, Report, Severity
from revgraph.render import environment_names, location_text, message_after_location, ordered, summary_line

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from revgraph.rules import Rule

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}
_HEADING = {Severity.ERROR: "errors", Severity.WARNING: "warnings", Severity.INFO: "info"}
_INDENT = 4


# Notes (info) of one rule listed in plain text before the rest are counted:
# airflow's hand-made file names gave 124 RG403 notes, 248 lines that buried
# its one error. -v (and doctor) list them all; --format json always does.
NOTES_SHOWN = 5


def render_text(
    report: Report, *, color: bool = False, verbose: bool = False, width: int | None = None,
    quiet: bool = False, every_note: bool | None = None,
) -> str:
    """The text report. ``quiet`` (-q): errors and warnings only, and nothing at all
    when there are none (the exit status says it); the summary still counts notes.
    ``every_note``: list each rule's notes past ``NOTES_SHOWN`` (default: ``verbose``;
    doctor explains every rule but lists them all only with -v)."""
    every_note = verbose if every_note is None else every_note
    console = _console(color, width)
    findings = ordered(report.findings)
    show_environment = len(environment_names(report)) > 1
    shown = False
    for severity in Severity:
        if quiet and severity is Severity.INFO:
            continue
        group = [f for f in findings if f.severity is severity]
        if group:
            _print_group(console, severity, group, verbose, show_environment, every_note)
            shown = True
    if shown or not quiet:
        _print_summary(console, report)
    return console.file.getvalue()  # type: ignore[attr-defined]


def render_rules_text(
    rules: Iterable[Rule], *, color: bool = False, width: int | None = None
) -> str:
    """``revgraph rules``: one line per rule."""
    from rich.text import Text

    console = _console(color, width)
    rules = list(rules)
    name_width = max((len(rule.name) for rule in rules), default=0)
    for rule in rules:
        line = Text.assemble(
            (rule.code, _STYLE[rule.severity]), " ", (f"{rule.severity.value:<7}", "dim"),
            " ", (f"{rule.name:<{name_width}}", "bold"), "  ", rule.title,
        )
        console.print(line, soft_wrap=True)
    return console.file.getvalue()  # type: ignore[attr-defined]


def render_rule_text(rule: Rule, *, color: bool = False, width: int | None = None) -> str:
    """``revgraph rules CODE``: the rule explained, with an example and its fix."""
    from rich.text import Text

    console = _console(color, width)
    console.print(
        Text.assemble((rule.code, _STYLE[rule.severity]), " ", (rule.name, "bold"),
                      f" ({rule.severity.value})"),
        soft_wrap=True,
    )
    console.print(Text(rule.title), soft_wrap=True)
    # The example is laid out by hand (columns, comments): never re-wrap it.
    for heading, body, wrap in (("why", rule.explanation, True),
                                ("example", rule.example, False),
                                ("fix", rule.fix, True)):
        console.print()
        console.print(Text(heading, style="bold"))
        _print_indented(console, Text(body), wrap=wrap)
    return console.file.getvalue()  # type: ignore[attr-defined]


def _console(color: bool, width: int | None) -> Console:
    from rich.console import Console

    from revgraph.render.inert import make_inert

    # Every choice rich would otherwise guess from the environment is made here, so
    # the output depends on the arguments only (NO_COLOR / FORCE_COLOR are the
    # caller's business when it computes ``color``).
    return make_inert(Console(
        file=StringIO(),
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        **{**console_size(), **({"width": width} if width is not None else {})},
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
        force_jupyter=False,
        force_interactive=False,
    ))


def console_size() -> dict[str, int]:
    """A rich console's ``width`` and ``height``, or {} to let rich read ``COLUMNS`` and the terminal.

    rich reads ``COLUMNS=0`` as a width of 0 and prints nothing at all (and
    other digits, such as ``²``, as a crash); as a value that is not a number,
    it counts as unset then: the terminal's size, else 80 columns. The height
    is given too, or rich would read ``COLUMNS`` again for it.
    """
    columns = os.environ.get("COLUMNS")
    if columns is None or not columns.isdigit() or (columns.isdecimal() and int(columns) > 0):
        return {}
    for fd in (0, 1, 2):  # as rich asks
        try:
            size = os.get_terminal_size(fd)
        except (AttributeError, ValueError, OSError):
            continue
        return {"width": size.columns or 80, "height": size.lines or 25}
    return {"width": 80, "height": 25}


def _print_group(
    console: Console, severity: Severity, group: list[Finding], verbose: bool,
    show_environment: bool, every_note: bool = False,
) -> None:
    from rich.text import Text

    console.print(Text(f"{_HEADING[severity]} ({len(group)})", style=_STYLE[severity]))
    # A rule is explained (verbose: doctor, check -v) at its first finding only, and
    # one fix shared by findings of a rule is printed once, after the last of them
    # (28 docstrings that drifted over a project's history: one explanation, one
    # `revgraph fix --docstrings`), also when another rule's finding sorts between
    # them. Each finding keeps its own line for grep.
    explained: set[str] = set()
    if severity is Severity.INFO and not every_note:
        group, counted = _cap_notes(group)
    else:
        counted = {}
    sharing: dict[tuple[str, str], int] = {}
    last: dict[tuple[str, str], int] = {}
    for index, finding in enumerate(group):
        if finding.fix:
            key = (finding.code, finding.fix)
            sharing[key] = sharing.get(key, 0) + 1
            last[key] = index
    for index, finding in enumerate(group):
        key = (finding.code, finding.fix or "")
        _print_finding(console, finding, verbose, show_environment, explain=finding.code not in explained,
                       fix=last.get(key) == index, run=sharing.get(key, 1))  # fmt: skip
        explained.add(finding.code)
    for code, more in counted.items():
        noun = "note" if more == 1 else "notes"
        console.print(Text(f"... and {more} more {code} {noun} (-v lists them all)", style="dim"), soft_wrap=True)
    console.print()


def _cap_notes(group: list[Finding]) -> tuple[list[Finding], dict[str, int]]:
    """The first ``NOTES_SHOWN`` notes of each rule, and how many more each rule has."""
    seen: dict[str, int] = {}
    kept = []
    for finding in group:
        seen[finding.code] = seen.get(finding.code, 0) + 1
        if seen[finding.code] <= NOTES_SHOWN:
            kept.append(finding)
    return kept, {code: n - NOTES_SHOWN for code, n in seen.items() if n > NOTES_SHOWN}


def _print_finding(
    console: Console, finding: Finding, verbose: bool, show_environment: bool,
    *, explain: bool = True, fix: bool = True, run: int = 1,
) -> None:  # fmt: skip
    from rich.text import Text

    from revgraph.render.inert import one_line  # a line break in an id must not start a line

    line = Text()
    where = location_text(finding)
    if where:
        line.append(one_line(where), style="bold")
        line.append(": ")
    line.append(finding.code, style=_STYLE[finding.severity])
    line.append(" ")
    line.append(one_line(message_after_location(finding)))
    if show_environment:
        line.append(f" [{one_line(finding.environment)}]", style="dim")
    # soft_wrap keeps `path:line: CODE message` on one line for grep and editors.
    console.print(line, soft_wrap=True)
    if verbose:
        _print_details(console, finding, explain)
    if finding.fix and fix:
        fix_line = Text.assemble(("fix: ", "dim"), (one_line(finding.fix), "green"))
        if run > 1:
            fix_line.append(f"  (for the {run} {finding.code} findings above)", style="dim")
        _print_indented(console, fix_line, wrap=False)


def _print_details(console: Console, finding: Finding, explain: bool = True) -> None:
    from rich.text import Text

    from revgraph.render.inert import one_line

    # The rule's explanation: findings carry the catalogue's, shown once per rule.
    explanation = (finding.explanation or _catalogue_explanation(finding.code)) if explain else ""
    if explanation:
        _print_indented(console, Text(explanation))
    for where in finding.locations[1:]:
        _print_indented(console, Text(f"see also: {one_line(where.path)}:{where.line}", style="dim"))


def _print_indented(console: Console, text: Text, *, wrap: bool = True) -> None:
    """Print ``text`` indented; wrapped to the console width, without trailing blanks."""
    from rich.text import Text

    lines = text.wrap(console, max(console.width - _INDENT, 20)) if wrap else text.split("\n")
    for line in lines:
        line.rstrip()
        console.print(Text(" " * _INDENT) + line, soft_wrap=True)


def _catalogue_explanation(code: str) -> str:
    from revgraph.rules import RULES

    rule = RULES.get(code)
    return rule.explanation if rule else ""


def _print_summary(console: Console, report: Report) -> None:
    from rich.text import Text

    console.print(Text(summary_line(report), style=_summary_style(report)), soft_wrap=True)


def _summary_style(report: Report) -> str:
    worst = min((f.severity.rank for f in report.findings), default=Severity.INFO.rank)
    return {0: "bold red", 1: "bold yellow"}.get(worst, "bold green")
