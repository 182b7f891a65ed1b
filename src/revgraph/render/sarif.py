"""SARIF 2.1.0 for code scanning (GitHub ``upload-sarif`` and friends).

One run; the driver lists every rule of the catalogue (so ``ruleIndex`` is stable
from run to run), results point at files relative to ``%SRCROOT%``.
``partialFingerprints`` hash what identifies a finding (code, environment,
revisions, file) and not its line or wording, so code scanning keeps tracking an
alert when the file above it changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING
from urllib.parse import quote

from revgraph.findings import Finding, Report, Severity
from revgraph.render import ordered

if TYPE_CHECKING:
    from revgraph.rules import Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://pypi.org/project/revgraph/"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "revgraphFinding/v1"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def report_to_sarif(report: Report) -> dict:
    from revgraph import __version__

    rules = _rule_descriptors(report)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    driver = {
        "name": "revgraph",
        "informationUri": INFORMATION_URI,
        "version": __version__,
        "semanticVersion": __version__,
        "rules": rules,
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {SRCROOT: {"description": {"text": "repository root"}}},
                "results": [_result(f, index[f.code]) for f in ordered(report.findings)],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render_sarif(report: Report) -> str:
    return json.dumps(report_to_sarif(report), indent=2, ensure_ascii=False) + "\n"


def _rule_descriptors(report: Report) -> list[dict]:
    from revgraph.rules import RULES

    descriptors = [_descriptor(rule) for rule in sorted(RULES.values(), key=lambda r: r.code)]
    # A check newer than the catalogue must still produce a valid log.
    for code in sorted({f.code for f in report.findings} - set(RULES)):
        descriptors.append({"id": code, "shortDescription": {"text": code}})
    return descriptors


def _descriptor(rule: Rule) -> dict:
    help_text = f"{rule.explanation}\n\nExample:\n{rule.example}\n\nFix: {rule.fix}"
    help_markdown = (
        f"{rule.explanation}\n\n**Example**\n\n```\n{rule.example}\n```\n\n**Fix**: {rule.fix}"
    )
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.explanation},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["alembic", "migrations"]},
    }


def _result(finding: Finding, rule_index: int) -> dict:
    text = finding.message + (f"\nfix: {finding.fix}" if finding.fix else "")
    result: dict = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": message_text(text)},
    }
    if finding.locations:
        result["locations"] = [_location(loc.path, loc.line) for loc in finding.locations[:1]]
        if len(finding.locations) > 1:
            result["relatedLocations"] = [
                dict(_location(loc.path, loc.line), id=i)
                for i, loc in enumerate(finding.locations[1:], start=1)
            ]
    result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(finding)}
    result["properties"] = {
        "environment": finding.environment,
        "revisions": list(finding.revisions),
    }
    return result


def message_text(text: str) -> str:
    """``text`` as a SARIF message string: ``{`` and ``}`` doubled (SARIF 2.1.0 §3.11.5).

    A message string is a format string whose ``{0}`` stands for an argument;
    a viewer reads a single brace from data ("'{' was never closed", an id or
    an environment name) as the start of a placeholder.
    """
    return text.replace("{", "{{").replace("}", "}}")


def _location(path: str, line: int) -> dict:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(path), "uriBaseId": SRCROOT},
            "region": {"startLine": max(line, 1)},
        }
    }


def _uri(path: str) -> str:
    # A relative URI reference: spaces and non-ASCII (PRODUCT §9) percent-encoded; a name
    # that is not UTF-8 (os.fsdecode's surrogates) as its own bytes (%E9).
    return quote(path.replace("\\", "/"), safe="/-._~!$&'()*+,;=@", errors="surrogateescape")


def fingerprint(finding: Finding) -> str:
    """Stable across runs and line moves: code, environment, revisions, primary file."""
    path = finding.locations[0].path if finding.locations else ""
    identity = [finding.code, finding.environment, *sorted(finding.revisions), path]
    if not finding.revisions and not path:
        identity.append(finding.message)  # nothing else tells such findings apart
    digest = hashlib.sha256("\x1f".join(identity).encode("utf-8", "surrogateescape")).hexdigest()
    return digest[:32]


def render_failure(message: str) -> str:
    """A run that could not check anything (exit 2), for ``-o FILE``: no results, and
    the reason as the invocation's error, so an upload step finds a file that says why
    instead of none."""
    from revgraph import __version__

    driver = {"name": "revgraph", "informationUri": INFORMATION_URI, "version": __version__,
              "semanticVersion": __version__, "rules": []}  # fmt: skip
    notification = {"level": "error", "message": {"text": message_text(message)}}
    run = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": False, "toolExecutionNotifications": [notification]}],
        "results": [],
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}, indent=2,
                      ensure_ascii=False) + "\n"  # fmt: skip
