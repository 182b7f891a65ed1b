"""The JSON contract of ``check`` / ``doctor --format json`` (PRODUCT §6).

``{"version": 1, "ok": bool, "base": ref or null, "findings": [...]}`` and, added
on top (fields may be added, never renamed), ``environments`` and ``summary``.
Keys are written in this order, findings in the shared order, so that two runs on
the same repository print the same bytes.
"""

from __future__ import annotations

import json

from revgraph.findings import Report, Severity
from revgraph.render import counts, environment_names, ordered

SCHEMA_VERSION = 1


def report_to_json(report: Report, *, strict: bool = False) -> dict:
    """The contract as a dict; ``ok`` agrees with the exit code (``strict`` counts warnings)."""
    tally = counts(report)
    return {
        "version": SCHEMA_VERSION,
        "ok": not report.failed(strict),
        "base": report.base,
        "findings": [finding.to_json() for finding in ordered(report.findings)],
        "environments": environment_names(report),
        "summary": {
            "errors": tally[Severity.ERROR],
            "warnings": tally[Severity.WARNING],
            "info": tally[Severity.INFO],
        },
    }


def render_json(report: Report, *, strict: bool = False) -> str:
    return json.dumps(report_to_json(report, strict=strict), indent=2, ensure_ascii=False) + "\n"
