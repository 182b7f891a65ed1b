"""Markdown: the PR comment (and GitHub step summary), and docs/rules.md.

The comment starts with a hidden marker so a bot can find and update its own
comment instead of adding a new one on every push.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from revgraph.findings import Finding, Report, Severity
from revgraph.render import location_text, message_after_location, ordered, summary_line
from revgraph.rules import RULES, Rule

COMMENT_MARKER = "<!-- revgraph-report -->"
MAX_ROWS = 50  # a PR comment is capped at 65536 characters
MAX_COMMANDS = 10  # fix commands shown per rule
MAX_CHARS = 60_000  # under GitHub's 65,536-character limit for a comment, with room to spare
# Data shown per table cell (and for the base ref): fewer rows alone cannot bring
# a comment under MAX_CHARS when one id or path is 70,000 characters long. At most
# ~10 escaped characters per character of data, one row stays far below it.
CELL_CHARS = 2_000

_STATUS = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "✅"}


def render_markdown(report: Report, *, mermaid: str | Mapping[str, str] | None = None,
                    max_rows: int = MAX_ROWS) -> str:
    """``mermaid``: one diagram, or one per environment (environment name -> diagram)."""
    findings = ordered(report.findings)
    head = [COMMENT_MARKER, _heading(report, findings)]
    fixes = _fixes(findings) if findings else ""
    if isinstance(mermaid, str):
        mermaid = {"": mermaid} if mermaid else {}
    mermaid = mermaid or {}
    from revgraph.render.mermaid import refusal

    pictures = []
    for name, diagram in mermaid.items():
        # A chart past Mermaid's limits renders as an error box: said instead.
        refused = refusal(diagram)
        block = _mermaid_block(diagram) if refused is None else _left_out(refused)
        # A ```mermaid block holds one diagram (two flowcharts in one do not
        # parse on GitHub): a block per environment, each under its name.
        pictures.append(block if len(mermaid) == 1 else f"Environment {code_span(name, in_table=False)}:\n\n{block}")

    def document(rows: int) -> str:
        table = [_table(findings, rows)] if findings else []
        return "\n\n".join(head + table + ([fixes] if fixes else []) + pictures) + "\n"

    # GitHub refuses a longer comment outright: the pictures go first, then the
    # fixes, then table rows.
    text = document(max_rows)
    if len(text) > MAX_CHARS and pictures:
        pictures = [_NO_PICTURE]
        text = document(max_rows)
    if len(text) > MAX_CHARS and fixes:
        fixes = _NO_FIXES
        text = document(max_rows)
    while len(text) > MAX_CHARS and max_rows > 1:
        max_rows //= 2
        text = document(max_rows)
    return text


def _left_out(refused: str) -> str:
    return f"_The picture is left out: {refused}; `revgraph graph -f svg` draws it._"


_NO_PICTURE = "_The picture is left out: with it this comment would pass GitHub's size limit; `revgraph graph` draws it._"
_NO_FIXES = "_How to fix each finding is left out: with it this comment would pass GitHub's size limit; `revgraph doctor` says it._"


def _heading(report: Report, findings: list[Finding]) -> str:
    worst = min((f.severity for f in findings), key=lambda s: s.rank, default=Severity.INFO)
    # A branch name may hold a backtick: code_span picks a delimiter it cannot close.
    against = f" against {code_span(shorten(report.base), in_table=False)}" if report.base else ""
    return f"## {_STATUS[worst]} revgraph: {summary_line(report)}{against}"


def _table(findings: list[Finding], max_rows: int) -> str:
    rows = ["| code | severity | message | location |", "| --- | --- | --- | --- |"]
    cut = False
    for finding in findings[:max_rows]:
        message = message_after_location(finding)
        where = location_text(finding) or finding.environment
        cut = cut or len(message) > CELL_CHARS or len(where) > CELL_CHARS
        location = code_span(shorten(where))
        rows.append(
            f"| {finding.code} | {finding.severity.value} | {cell(shorten(message))} | "
            f"{location if finding.locations else 'environment ' + location} |"
        )
    hidden = len(findings) - max_rows
    if hidden > 0:
        rows.append(f"\n… and {hidden} more; run `revgraph check` for the full list.")
    if cut:
        rows.append(f"\n_Cells longer than {CELL_CHARS:,} characters are cut short (…); "
                    "`revgraph check` prints them whole._")
    return "\n".join(rows)


def shorten(text: str, limit: int = CELL_CHARS) -> str:
    """``text``, or its start and end around "…" when it is longer than ``limit``
    (the end of a location is its line number)."""
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 2
    return text[: limit - 1 - tail] + "…" + text[len(text) - tail :]


def _fixes(findings: list[Finding]) -> str:
    sections = []
    for code in dict.fromkeys(f.code for f in findings):
        commands = list(dict.fromkeys(f.fix for f in findings if f.code == code and f.fix))
        rule = RULES.get(code)
        if not commands and rule is None:
            continue
        title = f"{code} {rule.name}" if rule else code
        body = [f"**{title}**: {rule.explanation}" if rule else f"**{title}**"]
        if commands:
            body.append(fenced("sh", "\n".join(commands[:MAX_COMMANDS])))
            if len(commands) > MAX_COMMANDS:
                body.append(f"… and {len(commands) - MAX_COMMANDS} more; `revgraph check` prints each.")
        elif rule:
            body.append(f"Fix: {rule.fix}")
        sections.append("\n\n".join(body))
    if not sections:
        return ""
    return "<details>\n<summary>Why, and how to fix</summary>\n\n" + "\n\n".join(
        sections) + "\n\n</details>"


def _mermaid_block(mermaid: str) -> str:
    return fenced("mermaid", mermaid.strip("\n"))


def fenced(info: str, body: str) -> str:
    """A fenced code block holding ``body`` verbatim.

    A fence ends at the first line of as many backticks as opened it (CommonMark
    4.5): one longer than any run in ``body`` (a revision id may hold a newline
    and three backticks) cannot be closed early, so nothing after it turns into
    markup.
    """
    fence = "`" * max(3, longest_backtick_run(body) + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def cell(text: str) -> str:
    """Text safe inside a table cell: no pipes, no raw HTML, one line."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def code_span(text: str, *, in_table: bool = True) -> str:
    # A run of backticks longer than any inside the text delimits the span safely;
    # a line break (a file name may hold one) would end the table row: shown escaped.
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    fence = "`" * (longest_backtick_run(text) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    span = f"{fence}{padded}{fence}"
    # In a table a pipe ends the cell, even in a code span; elsewhere "\\|" would show.
    return span.replace("|", "\\|") if in_table else span


def longest_backtick_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest


def render_rules_doc(rules: Iterable[Rule]) -> str:
    """docs/rules.md: every rule with its explanation, example and fix."""
    rules = sorted(rules, key=lambda rule: rule.code)
    parts = [
        "# revgraph rules",
        "<!-- Generated by scripts/gen_rules_doc.py from src/revgraph/rules.py; "
        "do not edit by hand. -->",
        "Select or ignore rules with `--select` / `--ignore` or `[tool.revgraph] select` / "
        "`ignore` (ruff semantics: code prefixes such as `RG1`, the most specific wins). "
        "Silence one revision with a comment `# revgraph: ignore[RG301]` in its file (a prefix such as `RG3`, or none at all, silences more).",
        _rules_index(rules),
    ]
    parts += [_rule_section(rule) for rule in rules]
    return "\n\n".join(parts) + "\n"


def _rules_index(rules: list[Rule]) -> str:
    rows = ["| code | name | severity | what |", "| --- | --- | --- | --- |"]
    rows += [
        f"| [{r.code}](#{r.code.lower()}) | `{r.name}` | {r.severity.value} | {cell(r.title)} |"
        for r in rules
    ]
    return "\n".join(rows)


def _rule_section(rule: Rule) -> str:
    return "\n\n".join([
        f"## {rule.code}",
        f"**`{rule.name}`** ({rule.severity.value}): {rule.title}",
        rule.explanation,
        "Example:",
        "```text\n" + rule.example + "\n```",
        f"Fix: {rule.fix}",
    ])
