"""How to show it: pure functions from findings/graphs to str/bytes.

Report renderers (``check`` / ``doctor`` / ``diff`` output, PRODUCT §6) each take a
``findings.Report`` and return a ``str``; ``render_report(fmt, report, **opts)``
picks one by name. The small helpers here (finding order, counts, the summary
sentence) are shared by every format so that they all tell the same story.
"""

from __future__ import annotations

from typing import Callable, Iterable

from revgraph.findings import Finding, Report, Severity

REPORT_FORMATS = ("text", "json", "github", "sarif", "junit", "markdown")

# format -> (module, function); imported on use so that `revgraph heads` never pays
# for rich or xml.
_RENDERERS = {
    "text": ("revgraph.render.report_text", "render_text"),
    "json": ("revgraph.render.report_json", "render_json"),
    "github": ("revgraph.render.github", "render_github"),
    "sarif": ("revgraph.render.sarif", "render_sarif"),
    "junit": ("revgraph.render.junit", "render_junit"),
    "markdown": ("revgraph.render.markdown", "render_markdown"),
}


def render_report(fmt: str, report: Report, **opts: object) -> str:
    """Render ``report`` as ``fmt`` (one of ``REPORT_FORMATS``).

    ``opts`` may hold options for any format (``color``, ``verbose``, ``width``,
    ``strict``, ``selected``, ``mermaid``, ...); each renderer receives only the
    ones it declares, so the caller can pass one set for every format.
    """
    import inspect

    renderer = _renderer(fmt)
    accepted = inspect.signature(renderer).parameters
    return renderer(report, **{k: v for k, v in opts.items() if k in accepted})


def _renderer(fmt: str) -> Callable[..., str]:
    from importlib import import_module

    from revgraph.errors import UsageError

    if fmt not in _RENDERERS:
        raise UsageError(
            f"unknown report format {fmt!r}", hint=f"choose one of: {', '.join(REPORT_FORMATS)}"
        )
    module, function = _RENDERERS[fmt]
    return getattr(import_module(module), function)


def finding_order(finding: Finding) -> tuple:
    """Sort key: errors first, then by environment, file, line, code."""
    where = finding.locations[0] if finding.locations else None
    return (
        finding.severity.rank,
        finding.environment,
        where is None,
        where.path if where else "",
        where.line if where else 0,
        finding.code,
        finding.message,
    )


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=finding_order)


def counts(report: Report) -> dict[Severity, int]:
    tally = {severity: 0 for severity in Severity}
    for finding in report.findings:
        tally[finding.severity] += 1
    return tally


def environment_names(report: Report) -> list[str]:
    """The report's environments, plus any that only its findings name, in order."""
    names = list(dict.fromkeys(report.environments))
    for finding in report.findings:
        if finding.environment not in names:
            names.append(finding.environment)
    return names


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary_line(report: Report) -> str:
    """"2 errors, 1 warning in 1 environment" or "All good: no problems in 3 environments"."""
    tally = counts(report)
    where = _in_environments(report)
    problems = [
        plural(tally[Severity.ERROR], "error") if tally[Severity.ERROR] else "",
        plural(tally[Severity.WARNING], "warning") if tally[Severity.WARNING] else "",
    ]
    notes = plural(tally[Severity.INFO], "note") if tally[Severity.INFO] else ""
    problems = [p for p in problems if p]
    if not problems:
        return f"All good: no problems{where}" + (f" ({notes})" if notes else "")
    return ", ".join(problems + ([notes] if notes else [])) + where


def _in_environments(report: Report) -> str:
    count = len(environment_names(report))
    return f" in {plural(count, 'environment')}" if count else ""


def message_after_location(finding: Finding) -> str:
    """The message without the place it is shown beside (a text line's prefix, a table's column).

    Messages name each revision's place (``a2d606a761d9 (versions/x.py:20)``)
    so that JSON, SARIF and annotations stand alone; beside
    ``versions/x.py:20`` the first repeat is noise.
    """
    message, where = finding.message, location_text(finding)
    if not where:
        return message
    if message.startswith(f"{where}: "):
        return message[len(where) + 2 :]
    return message.replace(f" ({where})", "", 1)


def location_text(finding: Finding) -> str | None:
    """``path:line`` of the finding's first location, or None."""
    if not finding.locations:
        return None
    where = finding.locations[0]
    return f"{where.path}:{where.line}"
