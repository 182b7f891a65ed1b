"""JUnit XML: one test suite per environment, one test case per rule.

CI systems that only understand test reports (GitLab, Jenkins, Azure) show each
rule as a passing, failing or skipped test. Error findings fail their test case;
warnings fail it only with ``strict=True`` and are otherwise reported in
``system-out``, as are info findings. Rules left out by ``select`` / ``ignore``
are skipped test cases, so the report still shows they exist.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from revgraph.findings import Finding, Report, Severity
from revgraph.render import environment_names, location_text, ordered

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

# Characters XML 1.0 cannot carry at all; a message must never make the file unparsable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_junit(
    report: Report, *, strict: bool = False, selected: Iterable[str] | None = None
) -> str:
    """``selected``: the codes that were checked; None means every code."""
    import xml.etree.ElementTree as ET

    codes = _codes(report)
    chosen = set(codes) if selected is None else set(selected)
    root = ET.Element("testsuites", name="revgraph")
    for environment in environment_names(report) or ["default"]:
        findings = [f for f in ordered(report.findings) if f.environment == environment]
        root.append(_suite(report, environment, codes, chosen, findings, strict))
    _sum_counts(root, root.findall("testsuite"))
    _clean_tree(root)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _codes(report: Report) -> list[str]:
    from revgraph.rules import RULES

    return sorted(set(RULES) | {f.code for f in report.findings})


def _suite(
    report: Report, environment: str, codes: list[str], chosen: set[str],
    findings: list[Finding], strict: bool,
) -> Element:
    import xml.etree.ElementTree as ET

    suite = ET.Element("testsuite", name=f"revgraph.{environment}")
    if report.base:
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="base", value=report.base)
    for code in codes:
        mine = [f for f in findings if f.code == code]
        suite.append(_case(code, environment, code in chosen or bool(mine), mine, strict))
    _sum_counts(suite, suite.findall("testcase"))
    return suite


def _case(code: str, environment: str, chosen: bool, findings: list[Finding],
          strict: bool) -> Element:
    import xml.etree.ElementTree as ET

    case = ET.Element("testcase", name=_case_name(code), classname=f"revgraph.{environment}",
                      time="0")
    if not chosen:
        ET.SubElement(case, "skipped", message="rule not selected")
        return case
    failing = [f for f in findings if _fails(f, strict)]
    if failing:
        failure = ET.SubElement(case, "failure", type=code, message=failing[0].message)
        failure.text = _describe(failing)
    passing = [f for f in findings if not _fails(f, strict)]
    if passing:
        ET.SubElement(case, "system-out").text = _describe(passing)
    return case


def _case_name(code: str) -> str:
    from revgraph.rules import RULES

    rule = RULES.get(code)
    return f"{code} {rule.title}" if rule else code


def _fails(finding: Finding, strict: bool) -> bool:
    if finding.severity is Severity.ERROR:
        return True
    return strict and finding.severity is Severity.WARNING


def _describe(findings: list[Finding]) -> str:
    lines = []
    for finding in findings:
        where = location_text(finding)
        prefix = f"{where}: " if where else ""
        lines.append(f"{prefix}{finding.code} [{finding.severity.value}] {finding.message}")
        if finding.fix:
            lines.append(f"    fix: {finding.fix}")
    return "\n".join(lines)


def _clean_tree(root: Element) -> None:
    """Every text and attribute of ``root`` without the characters XML cannot carry.

    Once, over the finished tree: environment names, ids, paths and messages reach
    names, class names, messages and texts, and one missed spot (an environment
    named "app\\u0001" in ``classname``) made the whole report unparsable.
    """
    for element in root.iter():
        for key, value in list(element.attrib.items()):
            element.set(key, _clean(value))
        if element.text:
            element.text = _clean(element.text)


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _sum_counts(element: Element, children: list[Element]) -> None:
    """Set tests/failures/errors/skipped on ``element`` from its children."""
    if element.tag == "testsuite":
        totals = {
            "tests": len(children),
            "failures": sum(c.find("failure") is not None for c in children),
            "errors": sum(c.find("error") is not None for c in children),
            "skipped": sum(c.find("skipped") is not None for c in children),
        }
    else:
        totals = {key: sum(int(c.get(key, "0")) for c in children)
                  for key in ("tests", "failures", "errors", "skipped")}
    for key, value in totals.items():
        element.set(key, str(value))
    element.set("time", "0")


def render_failure(message: str) -> str:
    """A report of a check that could not run (exit 2), for ``-o FILE``: one test case in
    error, with the reason, so a CI that reads test reports shows why instead of nothing."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="revgraph", tests="1", failures="0", errors="1")
    suite = ET.SubElement(root, "testsuite", name="revgraph", tests="1", failures="0", errors="1", skipped="0")
    case = ET.SubElement(suite, "testcase", classname="revgraph", name="revgraph could not run")
    error = ET.SubElement(case, "error", message=message.splitlines()[0] if message else "", type="revgraph")
    error.text = message
    _clean_tree(root)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
