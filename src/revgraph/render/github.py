"""GitHub Actions output: workflow commands that become annotations on the PR.

    ::error file=migrations/versions/b7d913_add_email.py,line=5,title=RG101::two heads...

Escaping follows @actions/core (toolkit ``command.ts``): data escapes ``%``, CR
and LF; property values also escape ``:`` and ``,``, which would otherwise end
the value. Every line of ``render_github`` is one workflow command; the step
summary (markdown) is a separate string the caller appends to
``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

from typing import Mapping

from revgraph.findings import Finding, Report, Severity
from revgraph.render import environment_names, message_after_location, ordered

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    show_environment = len(environment_names(report)) > 1
    lines = [_command(finding, show_environment) for finding in ordered(report.findings)]
    return "".join(line + "\n" for line in lines)


def _command(finding: Finding, show_environment: bool) -> str:
    properties = []
    if finding.locations:
        where = finding.locations[0]
        properties += [("file", where.path), ("line", str(where.line))]
    properties.append(("title", finding.code))
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    message = escape_data(_message(finding, show_environment))
    return f"::{_COMMAND[finding.severity]} {props}::{message}"


def _message(finding: Finding, show_environment: bool) -> str:
    # The annotation sits on its file and line: the message need not say them again.
    message = message_after_location(finding)
    text = f"[{finding.environment}] {message}" if show_environment else message
    if finding.fix:
        text += f"\nfix: {finding.fix}"
    return text


def github_step_summary(report: Report, mermaid: str | Mapping[str, str] | None = None) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY`` (the caller appends it to that file)."""
    from revgraph.render.markdown import render_markdown

    return render_markdown(report, mermaid=mermaid)
