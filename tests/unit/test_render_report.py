"""The rule catalogue, select/ignore, and every report format (PRODUCT §3, §6)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

import revgraph
from revgraph.errors import UsageError
from revgraph.findings import Finding, Location, Report, Severity
from revgraph.render import REPORT_FORMATS, render_report
from revgraph.render.github import escape_data, escape_property, github_step_summary, render_github
from revgraph.render.junit import render_junit
from revgraph.render.markdown import MAX_CHARS, code_span, fenced, render_markdown, render_rules_doc
from revgraph.render.report_json import render_json
from revgraph.render.report_text import render_rule_text, render_rules_text, render_text
from revgraph.render.sarif import FINGERPRINT_KEY, render_sarif
from revgraph.rules import RULES, find_rule, select_codes

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"

# The release contract (PRODUCT §3): codes and their severities never change meaning.
RELEASED = {
    "RG101": "error", "RG102": "error", "RG103": "error", "RG104": "error",
    "RG105": "error", "RG106": "error", "RG107": "error",
    "RG201": "error", "RG202": "error", "RG203": "warning", "RG204": "warning",
    "RG301": "warning", "RG302": "warning",
    "RG401": "error", "RG402": "warning", "RG403": "info", "RG404": "warning",
    "RG501": "error", "RG502": "info",
}

ANSI = re.compile(r"\x1b\[")
HEADS_PATH = "migrations/versions/b7d913_add_email.py"


def heads_finding(**changes) -> Finding:
    values = dict(
        code="RG101",
        severity=Severity.ERROR,
        message="two heads: b7d913 (add email), c42e5a (create orders)",
        revisions=("b7d913", "c42e5a"),
        locations=(Location(HEADS_PATH, 5), Location("migrations/versions/c42e5a_orders.py", 6)),
        fix="revgraph fix",
    )
    values.update(changes)
    return Finding(**values)


def edited_finding(**changes) -> Finding:
    values = dict(code="RG203", severity=Severity.WARNING,
                  message="landed revision c42e5a was edited", revisions=("c42e5a",))
    values.update(changes)
    return Finding(**values)


def behind_finding(**changes) -> Finding:
    values = dict(code="RG502", severity=Severity.INFO, environment="analytics",
                  message="database is behind: upgrade head would apply 9a8b7c",
                  revisions=("9a8b7c",),
                  locations=(Location("analytics/versions/9a8b7c_x.py", 1),))
    values.update(changes)
    return Finding(**values)


@pytest.fixture
def mixed() -> Report:
    """An error with two locations and a fix, a location-less warning, an info elsewhere."""
    return Report(
        findings=(behind_finding(), edited_finding(), heads_finding()),
        base="origin/main",
        environments=("default", "analytics"),
    )


@pytest.fixture
def clean() -> Report:
    return Report(base="origin/main", environments=("default", "analytics", "audit"))


# ----------------------------------------------------------------- catalogue

def test_catalogue_holds_exactly_the_released_codes_with_their_severities():
    assert {code: rule.severity.value for code, rule in RULES.items()} == RELEASED
    assert all(rule.code == code for code, rule in RULES.items())


def test_rule_names_are_unique_kebab_case():
    names = [rule.name for rule in RULES.values()]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", name) for name in names), names


@pytest.mark.parametrize("code", sorted(RELEASED))
def test_every_rule_explains_itself_with_an_example_and_a_fix(code):
    rule = RULES[code]
    assert "\n" not in rule.title and rule.title[0].isupper()
    assert "\n" not in rule.explanation and len(rule.explanation) > 150
    assert rule.example.strip() and rule.fix.strip()
    assert rule.example == rule.example.strip("\n")
    assert not rule.example.startswith(" "), "examples are dedented"


def test_repointing_rule_warns_that_upgrade_head_silently_succeeds():
    text = RULES["RG201"].explanation
    assert "silently skipped" in text and "`alembic upgrade head` exits 0" in text


def test_fixable_rules_name_the_revgraph_command():
    for code in ("RG101", "RG102", "RG401", "RG402"):
        assert "`revgraph " in RULES[code].fix, code


def test_find_rule_accepts_code_in_any_case_and_name():
    assert find_rule("rg201") is RULES["RG201"]
    assert find_rule("multiple-heads") is RULES["RG101"]
    with pytest.raises(UsageError) as info:
        find_rule("RG999")
    assert info.value.exit_code == 2


# ----------------------------------------------------------------- select / ignore

def test_empty_select_means_every_rule():
    assert select_codes(RULES) == set(RULES)


@pytest.mark.parametrize(
    "select, ignore, expected",
    [
        (["RG1"], [], {c for c in RELEASED if c.startswith("RG1")}),
        (["ALL"], [], set(RELEASED)),
        (["RG"], ["RG5"], {c for c in RELEASED if not c.startswith("RG5")}),
        (["RG1"], ["RG1"], set()),  # same specificity: ignore wins
        (["RG101"], ["RG101"], set()),
        (["RG101"], ["RG1"], {"RG101"}),  # more specific select wins
        (["RG1"], ["RG101"], {c for c in RELEASED if c.startswith("RG1")} - {"RG101"}),
        (["ALL"], ["RG"], set()),  # a prefix is more specific than ALL
        (["RG101", "RG2"], ["ALL"], {"RG101", "RG201", "RG202", "RG203", "RG204"}),
        ([" rg40 "], [], {"RG401", "RG402", "RG403", "RG404"}),
    ],
)
def test_select_and_ignore_follow_ruff_specificity(select, ignore, expected):
    assert select_codes(RULES, select, ignore) == expected


@pytest.mark.parametrize("select, ignore", [(["RG9"], []), ([], ["RG1O1"]), (["E501"], [])])
def test_unknown_selector_is_a_usage_error(select, ignore):
    with pytest.raises(UsageError) as info:
        select_codes(RULES, select, ignore)
    assert info.value.exit_code == 2


_selectors = st.lists(st.sampled_from(["ALL", "RG", "RG1", "RG2", "RG10", "RG20", *RELEASED]),
                      max_size=4)


@given(select=_selectors, ignore=_selectors, extra=st.sampled_from(sorted(RELEASED)))
def test_ignoring_more_never_turns_a_rule_on(select, ignore, extra):
    before = select_codes(RULES, select, ignore)
    after = select_codes(RULES, select, [*ignore, extra])
    assert after <= before
    assert extra not in after


@given(select=_selectors, ignore=_selectors, code=st.sampled_from(sorted(RELEASED)))
def test_selecting_a_code_exactly_turns_it_on_unless_ignored_exactly(select, ignore, code):
    on = select_codes(RULES, [*select, code], ignore)
    assert (code in on) == (code not in ignore)


# ----------------------------------------------------------------- text

def test_text_lines_are_ruff_style_and_grouped_by_severity(mixed):
    out = render_text(mixed, color=False, verbose=False, width=100)
    lines = out.splitlines()
    heads = f"{HEADS_PATH}:5: RG101 two heads: b7d913 (add email), c42e5a (create orders)"
    assert any(line.startswith(heads) for line in lines)
    assert "analytics/versions/9a8b7c_x.py:1: RG502 database is behind" in out
    assert out.index("RG101") < out.index("RG203") < out.index("RG502")
    assert "    fix: revgraph fix" in lines


def test_text_ends_with_a_one_line_summary(mixed, clean):
    assert render_text(mixed, width=100).rstrip().splitlines()[-1] == (
        "1 error, 1 warning, 1 note in 2 environments"
    )
    assert render_text(clean, width=100).strip() == "All good: no problems in 3 environments"


def test_text_explains_only_when_verbose(mixed):
    explanation_start = RULES["RG101"].explanation[:40]
    assert explanation_start not in render_text(mixed, verbose=False, width=200)
    verbose = render_text(mixed, verbose=True, width=200)
    assert "    " + explanation_start in verbose
    assert "see also: migrations/versions/c42e5a_orders.py:6" in verbose


def drifted_docstrings(count: int, fix: str = "revgraph fix --docstrings") -> tuple[Finding, ...]:
    return tuple(
        Finding(code="RG402", severity=Severity.WARNING, revisions=(f"a{i}",), fix=fix,
                message=f"docstring of a{i} (versions/a{i}_x.py:20) disagrees with the assignments",
                locations=(Location(f"versions/a{i}_x.py", 20),))  # fmt: skip
        for i in range(count)
    )


def test_verbose_text_explains_a_rule_once_and_prints_a_shared_fix_once_after_its_run():
    # superset's 28 drifted docstrings: doctor printed the explanation and the
    # same `fix: revgraph fix --docstrings` 28 times.
    report = Report(findings=(*drifted_docstrings(3), heads_finding()))
    verbose = render_text(report, verbose=True, width=200)
    assert verbose.count(RULES["RG402"].explanation[:40]) == 1
    assert verbose.count(RULES["RG101"].explanation[:40]) == 1
    lines = verbose.splitlines()
    fixes = [n for n, line in enumerate(lines) if "fix: revgraph fix --docstrings" in line]
    assert len(fixes) == 1 and lines[fixes[0]].endswith("(for the 3 RG402 findings above)")
    assert lines[fixes[0] - 1].startswith("versions/a2_x.py:20: RG402")  # after the last of the run
    # The terse output (check) groups the fix the same way; different fixes each show.
    terse = render_text(report, width=200)
    assert terse.count("fix: revgraph fix --docstrings  (for the 3 RG402 findings above)") == 1
    assert terse.count("fix: ") == 2 and RULES["RG402"].explanation[:40] not in terse
    mixed_fixes = Report(findings=(*drifted_docstrings(1), *drifted_docstrings(1, fix="revgraph fix")))
    assert render_text(mixed_fixes, verbose=True, width=200).count("fix: ") == 2
    assert "above)" not in render_text(mixed_fixes, width=200)


def test_a_shared_fix_is_printed_once_when_another_rules_finding_sorts_between():
    # QA: an RG203 warning between two RG402 ones split `fix: revgraph fix
    # --docstrings` into "(for the 1 RG402 findings above)" twice.
    first, second = drifted_docstrings(2)
    edited = Finding(code="RG203", severity=Severity.WARNING, revisions=("a0",), fix="git restore -- x",
                     message="a landed revision was edited", locations=(Location("versions/a0_y.py", 3),))  # fmt: skip
    text = render_text(Report(findings=(first, edited, second)), width=200)
    lines = text.splitlines()
    assert [line.split(": ", 1)[0].strip() for line in lines if "RG" in line and "fix:" not in line][:3] == [
        "versions/a0_x.py:20", "versions/a0_y.py:3", "versions/a1_x.py:20"]  # interleaved, as QA saw
    assert text.count("fix: revgraph fix --docstrings") == 1
    assert "fix: revgraph fix --docstrings  (for the 2 RG402 findings above)" in text
    assert text.count("fix: git restore -- x") == 1


def test_text_does_not_repeat_the_place_its_line_starts_with():
    (finding,) = drifted_docstrings(1)
    text = render_text(Report(findings=(finding,)), width=200)
    assert "versions/a0_x.py:20: RG402 docstring of a0 disagrees with the assignments" in text
    unreadable = Finding(code="RG107", severity=Severity.ERROR, locations=(Location("versions/bad.py", 4),),
                         message="versions/bad.py:4: cannot be read statically: syntax error")  # fmt: skip
    text = render_text(Report(findings=(unreadable,)), width=200)
    assert "versions/bad.py:4: RG107 cannot be read statically: syntax error" in text
    # Another place in the message stays; the machine formats keep the message whole.
    heads = heads_finding(message=f"two heads: b7d913 ({HEADS_PATH}:5), c42e5a (migrations/versions/c42e5a_orders.py:6)")
    text = render_text(Report(findings=(heads,)), width=300)
    assert f"{HEADS_PATH}:5: RG101 two heads: b7d913, c42e5a (migrations/versions/c42e5a_orders.py:6)" in text
    assert f"b7d913 ({HEADS_PATH}:5)" in render_json(Report(findings=(heads,)))
    # A pull request's table has the place in its own column.
    (finding,) = drifted_docstrings(1)
    assert "| RG402 | warning | docstring of a0 disagrees with the assignments | `versions/a0_x.py:20` |" in (
        render_markdown(Report(findings=(finding,))))


def test_text_has_no_ansi_escapes_without_color_even_if_environment_forces_it(
    mixed, monkeypatch
):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    assert not ANSI.search(render_text(mixed, color=False, verbose=True))
    assert ANSI.search(render_text(mixed, color=True))


def test_text_keeps_a_finding_on_one_line_in_a_narrow_console(mixed):
    out = render_text(mixed, width=30)
    assert f"{HEADS_PATH}:5: RG101 two heads: b7d913 (add email), c42e5a" in out


def test_text_does_not_interpret_brackets_in_messages_as_markup():
    report = Report(findings=(edited_finding(message="label [bold]shop[/bold] moved"),))
    coloured = render_text(report, color=True, width=100)
    assert "RG203 label [bold]shop[/bold] moved" in re.sub(r"\x1b\[[0-9;]*m", "", coloured)


def test_text_shows_line_breaks_of_ids_paths_and_environments_escaped():
    # QA: an id "cccc\n\nAll good. ..." printed raw spilt a fake verdict onto a line of its own.
    finding = heads_finding(message="two heads: b7d913, c\n\nAll good", environment="env\r1",
                            locations=(Location("v/a\nb.py", 5), Location("v/c\u2028d.py", 6)),
                            fix="git mv -- 'v/a\nb.py' v/b.py")
    out = render_text(Report(findings=(finding,), environments=("env\r1", "other")), verbose=True)
    assert "v/a\\nb.py:5: RG101 two heads: b7d913, c\\n\\nAll good [env\\r1]" in out
    assert "see also: v/c\\u2028d.py:6" in out and "fix: git mv -- 'v/a\\nb.py' v/b.py" in out
    assert "\r" not in out and "\u2028" not in out and not any(line.startswith("All good") for line in out.splitlines())


@given(st.text())
def test_one_line_leaves_a_line_alone_and_breaks_nothing_else(text):
    from revgraph.render.inert import one_line

    shown = one_line(text)
    assert not set("\n\r\u2028\u2029") & set(shown)
    assert (shown == text) == (not set("\n\r\u2028\u2029") & set(text))


def test_rules_listing_and_explanation_render_from_the_catalogue():
    listing = render_rules_text(RULES.values(), width=200)
    assert len(listing.splitlines()) == len(RULES)
    assert re.search(r"^RG201 error\s+landed-revision-repointed\s+A landed", listing, re.M)
    explained = render_rule_text(RULES["RG201"], width=200)
    assert "    " + RULES["RG201"].example.splitlines()[0] in explained
    assert "revgraph fix" in explained


# ----------------------------------------------------------------- json

def test_json_follows_the_contract(mixed):
    data = json.loads(render_json(mixed))
    assert list(data)[:4] == ["version", "ok", "base", "findings"]
    assert data["version"] == 1 and data["ok"] is False and data["base"] == "origin/main"
    for finding in data["findings"]:
        assert list(finding) == ["code", "severity", "message", "environment", "revisions",
                                 "locations", "fix"]
    heads = data["findings"][0]
    assert heads == heads_finding().to_json()
    assert heads["locations"][0] == {"path": HEADS_PATH, "line": 5}
    assert data["summary"] == {"errors": 1, "warnings": 1, "info": 1}
    assert data["environments"] == ["default", "analytics"]


def test_json_round_trips_every_finding_in_severity_order(mixed):
    data = json.loads(render_json(mixed))
    assert [f["code"] for f in data["findings"]] == ["RG101", "RG203", "RG502"]
    restored = {
        Finding(
            code=f["code"], severity=Severity(f["severity"]), message=f["message"],
            environment=f["environment"], revisions=tuple(f["revisions"]),
            locations=tuple(Location(**loc) for loc in f["locations"]), fix=f["fix"],
        )
        for f in data["findings"]
    }
    assert restored == {
        Finding(**{**vars(f), "explanation": ""}) for f in mixed.findings
    }


def test_json_output_does_not_depend_on_finding_order(mixed):
    shuffled = Report(findings=tuple(reversed(mixed.findings)), base=mixed.base,
                      environments=mixed.environments)
    assert render_json(shuffled) == render_json(mixed)


def test_json_ok_counts_warnings_only_when_strict():
    report = Report(findings=(edited_finding(),), base=None)
    assert json.loads(render_json(report))["ok"] is True
    assert json.loads(render_json(report, strict=True))["ok"] is False
    assert json.loads(render_json(report))["base"] is None


# ----------------------------------------------------------------- github

WORKFLOW_COMMAND = re.compile(
    r"^::(error|warning|notice) (?:file=[^,:\r\n]+,line=\d+,)?title=RG\d{3}::[^\r\n]*$"
)


def unescape_data(value: str) -> str:
    return value.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def test_every_github_line_is_a_workflow_command(mixed):
    lines = render_github(mixed).splitlines()
    assert len(lines) == 3
    for line in lines:
        assert WORKFLOW_COMMAND.match(line), line
    assert lines[0].startswith(f"::error file={HEADS_PATH},line=5,title=RG101::")
    assert lines[1].startswith("::warning title=RG203::")  # no location: no file/line
    assert lines[2].startswith("::notice file=analytics/versions/9a8b7c_x.py,line=1,")


def test_github_escapes_message_data_and_names_the_fix():
    message = "100% broken\r\nsee: a, b"
    out = render_github(Report(findings=(heads_finding(message=message),)))
    assert WORKFLOW_COMMAND.match(out.rstrip("\n"))
    data = out.rstrip("\n").split("::", 2)[2]
    assert data == "100%25 broken%0D%0Asee: a, b%0Afix: revgraph fix"
    assert unescape_data(data) == message + "\nfix: revgraph fix"


def test_a_github_annotation_does_not_repeat_the_place_it_sits_on():
    (finding,) = drifted_docstrings(1)
    out = render_github(Report(findings=(finding,)))
    assert out.startswith("::warning file=versions/a0_x.py,line=20,title=RG402::docstring of a0 disagrees")


def test_github_escapes_colon_and_comma_in_file_property():
    path = "dir: odd,name/x%.py"
    out = render_github(Report(findings=(heads_finding(locations=(Location(path, 3),)),)))
    assert out.startswith("::error file=dir%3A odd%2Cname/x%25.py,line=3,title=RG101::")
    assert WORKFLOW_COMMAND.match(out.rstrip("\n"))


def test_github_escaping_matches_the_actions_toolkit():
    assert escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"


def test_github_prints_nothing_for_a_clean_report(clean):
    assert render_github(clean) == ""


def test_github_step_summary_is_markdown_with_the_graph(mixed):
    summary = github_step_summary(mixed, "graph TD\n  a --> b")
    assert "```mermaid\ngraph TD\n  a --> b\n```" in summary
    assert "| RG101 | error |" in summary


# ----------------------------------------------------------------- sarif

@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_sarif_is_valid_against_the_official_schema(mixed, clean, sarif_validator):
    for report in (mixed, clean, Report(findings=(edited_finding(code="RG999"),))):
        log = json.loads(render_sarif(report))
        errors = sorted(sarif_validator.iter_errors(log), key=str)
        assert not errors, errors[0]


def test_sarif_schema_check_is_not_vacuous(mixed, sarif_validator):
    log = json.loads(render_sarif(mixed))
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert list(sarif_validator.iter_errors(log))


def test_sarif_driver_describes_every_rule(mixed):
    driver = json.loads(render_sarif(mixed))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "revgraph" and driver["version"] == revgraph.__version__
    assert driver["informationUri"].startswith("https://")
    assert [rule["id"] for rule in driver["rules"]] == sorted(RELEASED)
    rg203 = driver["rules"][sorted(RELEASED).index("RG203")]
    assert rg203["name"] == "landed-revision-edited"
    assert rg203["shortDescription"]["text"] == RULES["RG203"].title
    assert rg203["fullDescription"]["text"] == RULES["RG203"].explanation
    assert RULES["RG203"].fix in rg203["help"]["text"]
    assert rg203["defaultConfiguration"]["level"] == "warning"


def test_sarif_results_point_at_relative_files(mixed):
    run = json.loads(render_sarif(mixed))["runs"][0]
    results = {r["ruleId"]: r for r in run["results"]}
    assert {code: r["level"] for code, r in results.items()} == {
        "RG101": "error", "RG203": "warning", "RG502": "note"}
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    place = results["RG101"]["locations"][0]["physicalLocation"]
    assert place["artifactLocation"] == {"uri": HEADS_PATH, "uriBaseId": "%SRCROOT%"}
    assert place["region"] == {"startLine": 5}
    assert results["RG101"]["message"]["text"].startswith("two heads: b7d913")
    assert "locations" not in results["RG203"]


def test_sarif_uri_percent_encodes_spaces_and_non_ascii():
    finding = heads_finding(locations=(Location("migrations/versions/a b_été.py", 2),))
    result = json.loads(render_sarif(Report(findings=(finding,))))["runs"][0]["results"][0]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "migrations/versions/a%20b_%C3%A9t%C3%A9.py"


def _fingerprint(finding: Finding) -> str:
    result = json.loads(render_sarif(Report(findings=(finding,))))["runs"][0]["results"][0]
    return result["partialFingerprints"][FINGERPRINT_KEY]


@given(st.text(alphabet=st.sampled_from("{}a0 "), max_size=30), st.sampled_from(["", "fix {x}"]))
def test_sarif_message_text_doubles_every_brace(message, fix):
    # SARIF 2.1.0 §3.11.5: a message string is a format string; "{" and "}" SHALL be "{{" "}}".
    finding = heads_finding(message=message, fix=fix or None, locations=())
    text = json.loads(render_sarif(Report(findings=(finding,))))["runs"][0]["results"][0]["message"]["text"]
    assert all(len(run) % 2 == 0 for run in re.findall(r"\{+|\}+", text)), text
    assert text.replace("{{", "{").replace("}}", "}") == message + (f"\nfix: {fix}" if fix else "")


def test_sarif_fingerprint_survives_line_moves_and_rewording_but_not_other_revisions():
    original = _fingerprint(heads_finding())
    moved = heads_finding(locations=(Location(HEADS_PATH, 40),),
                          message="two heads, reworded")
    assert _fingerprint(moved) == original
    assert _fingerprint(heads_finding(revisions=("b7d913", "ffffff"))) != original
    assert _fingerprint(heads_finding(environment="analytics")) != original


# ----------------------------------------------------------------- junit

def _parse_junit(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def _assert_counts_consistent(root: ET.Element) -> None:
    suites = root.findall("testsuite")
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in cases)
        assert int(suite.get("errors")) == 0
    for key in ("tests", "failures", "errors", "skipped"):
        assert int(root.get(key)) == sum(int(s.get(key)) for s in suites), key


def test_junit_has_one_suite_per_environment_and_one_case_per_rule(mixed):
    root = _parse_junit(render_junit(mixed))
    assert root.tag == "testsuites"
    _assert_counts_consistent(root)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"revgraph.default", "revgraph.analytics"}
    for env, suite in (("default", suites["revgraph.default"]),
                       ("analytics", suites["revgraph.analytics"])):
        cases = suite.findall("testcase")
        assert [c.get("name").split()[0] for c in cases] == sorted(RELEASED)
        assert {c.get("classname") for c in cases} == {f"revgraph.{env}"}
    heads = suites["revgraph.default"].find("testcase[@name='RG101 " + RULES["RG101"].title + "']")
    failure = heads.find("failure")
    assert failure.get("type") == "RG101"
    assert f"{HEADS_PATH}:5: RG101" in failure.text and "fix: revgraph fix" in failure.text


def _failing_codes(root: ET.Element) -> set[tuple[str, str]]:
    return {
        (suite.get("name"), case.get("name").split()[0])
        for suite in root.findall("testsuite")
        for case in suite.findall("testcase")
        if case.find("failure") is not None
    }


def test_junit_fails_warnings_only_when_strict(mixed):
    assert _failing_codes(_parse_junit(render_junit(mixed))) == {("revgraph.default", "RG101")}
    strict = _parse_junit(render_junit(mixed, strict=True))
    _assert_counts_consistent(strict)
    assert _failing_codes(strict) == {("revgraph.default", "RG101"),
                                      ("revgraph.default", "RG203")}


def test_junit_skips_rules_that_were_not_selected(mixed):
    root = _parse_junit(render_junit(mixed, selected={"RG101", "RG203", "RG502"}))
    _assert_counts_consistent(root)
    assert int(root.get("skipped")) == 2 * (len(RELEASED) - 3)
    assert int(root.get("tests")) == 2 * len(RELEASED)


def test_junit_stays_parsable_with_control_characters_and_markup():
    finding = heads_finding(message="bad \x01 byte & <tag> \"quoted\"")
    root = _parse_junit(render_junit(Report(findings=(finding,), environments=("default",))))
    failure = root.find(".//failure")
    assert failure.get("message") == "bad \ufffd byte & <tag> \"quoted\""



def test_junit_stays_parsable_with_control_characters_in_environment_names_and_codes():
    # QA: the environment's name went into name= and classname= uncleaned.
    finding = heads_finding(environment="app\x01", code="RG999\x02", revisions=("r\x03",))
    report = Report(findings=(finding,), environments=("app\x01",), base="main\x04")
    root = _parse_junit(render_junit(report))
    suite = root.find("testsuite")
    assert suite.get("name") == "revgraph.app\ufffd"
    assert {case.get("classname") for case in suite.iter("testcase")} == {"revgraph.app\ufffd"}
    assert suite.find(".//failure").get("type") == "RG999\ufffd"
    assert suite.find(".//property").get("value") == "main\ufffd"


# ----------------------------------------------------------------- markdown

def _table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("| RG")]


def test_markdown_comment_has_status_table_fixes_and_graph(mixed):
    out = render_markdown(mixed, mermaid="graph TD\n  a --> b\n")
    assert out.startswith("<!-- revgraph-report -->\n\n## ❌ revgraph: 1 error, 1 warning")
    assert "against `origin/main`" in out.splitlines()[2]
    assert _table_rows(out)[0] == (
        f"| RG101 | error | two heads: b7d913 (add email), c42e5a (create orders) | "
        f"`{HEADS_PATH}:5` |"
    )
    assert "```sh\nrevgraph fix\n```" in out
    assert out.rstrip().endswith("```mermaid\ngraph TD\n  a --> b\n```")


def test_markdown_table_cells_cannot_break_the_table():
    finding = heads_finding(message="a | b\nc <script>")
    rows = _table_rows(render_markdown(Report(findings=(finding,))))
    assert len(rows) == 1
    assert len(re.findall(r"(?<!\\)\|", rows[0])) == 5  # 4 cells
    assert "&lt;script&gt;" in rows[0]


@pytest.mark.parametrize("newline", ["\r", "\n", "\r\n"])
def test_markdown_table_rows_survive_a_line_break_in_a_path_or_message(newline):
    # QA: a file named `b1_a\rc|d%,:.py` put a raw CR in a cell, which ended the row.
    path = f"migrations/versions/b1_a{newline}c|d%,:.py"
    finding = heads_finding(message=f"one{newline}two", locations=(Location(path, 5),))
    out = render_markdown(Report(findings=(finding,)))
    rows = _table_rows(out)
    assert len(rows) == 1, rows
    assert len(re.findall(r"(?<!\\)\|", rows[0])) == 5  # 4 cells
    assert "\r" not in out and "b1_a" in rows[0]


def test_markdown_clean_report_is_green_without_table_or_graph(clean):
    out = render_markdown(clean)
    assert "## ✅ revgraph: All good: no problems in 3 environments" in out
    assert "| code |" not in out and "mermaid" not in out


def test_markdown_caps_the_table_for_pr_comment_limits():
    findings = tuple(edited_finding(message=f"edit {i}", revisions=(f"r{i}",)) for i in range(7))
    out = render_markdown(Report(findings=findings), max_rows=5)
    assert len(_table_rows(out)) == 5
    assert "… and 2 more" in out
    assert out.startswith("<!-- revgraph-report -->\n\n## ⚠️ ")


def deleted_landed(count: int, path_length: int = 60) -> tuple[Finding, ...]:
    """Airflow 3.0's squash as RG202 findings: one restore command per deleted file."""
    return tuple(
        Finding(code="RG202", severity=Severity.ERROR, revisions=(f"r{i:04d}",),
                message=f"landed revision r{i:04d} was deleted", locations=(Location(f"v/{i:04d}_{'x' * path_length}.py", 1),),
                fix=f"git restore --source=main -- v/{i:04d}_{'x' * path_length}.py")  # fmt: skip
        for i in range(count)
    )


def test_markdown_lists_ten_fix_commands_per_rule_and_says_how_many_more():
    # Replaying Airflow's 3.0 squash: 125 restore commands, 63 KB of comment.
    out = render_markdown(Report(findings=deleted_landed(125)))
    assert out.count("git restore --source=main") == 10
    assert "… and 115 more; `revgraph check` prints each." in out


@pytest.mark.parametrize("findings, picture", [
    (deleted_landed(3), "graph TD\n" + "  a --> b\n" * 8000),  # a picture too big to post
    (deleted_landed(40, path_length=2000), ""),  # rows and fixes too big
])  # fmt: skip
def test_markdown_stays_under_github_s_comment_limit(findings, picture):
    out = render_markdown(Report(findings=findings), mermaid=picture or None)
    assert len(out) <= 65_536
    assert out.startswith("<!-- revgraph-report -->\n\n## ❌ revgraph: ")
    if picture:
        assert "The picture is left out" in out and "```sh" in out
    else:
        assert "How to fix each finding is left out" in out and "… and" in out



@given(st.text(alphabet=st.sampled_from("`~ \nab<>#|"), max_size=60), st.sampled_from(["sh", "mermaid"]))
def test_a_fenced_block_holds_any_text_whole(body, info):
    # QA: a fix command holding "\n```" closed the ```sh fence early.
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(fenced(info, body) + "\n\nafter")
    assert [t.type for t in tokens][:1] == ["fence"] and tokens[0].info == info
    assert tokens[0].content == body + "\n"
    assert [t.type for t in tokens[1:]] == ["paragraph_open", "inline", "paragraph_close"]


def test_markdown_heading_puts_a_base_with_backticks_or_pipes_in_one_code_span():
    out = render_markdown(Report(base="rel`<b>x</b>`|y"))
    assert out.splitlines()[2].endswith(" against ``rel`<b>x</b>`|y``")
    assert code_span("a|b") == "`a\\|b`"  # in a table the pipe is escaped


def test_markdown_cuts_a_cell_too_long_for_a_comment_and_says_so():
    # QA: a 70,000-character revision id gave a 70,597-character comment: the rows were
    # halved down to one, and that one row was never cut.
    rid = "x" + "L" * 70_000
    finding = heads_finding(message=f"two heads: b7d913, {rid}", revisions=("b7d913", rid),
                            locations=(Location(f"v/{rid}.py", 7),), fix=f"git mv -- v/{rid}.py v/b.py")
    out = render_markdown(Report(findings=(finding,), base="b" * 70_000), mermaid=f'graph TD\n  a["{rid}"]\n')
    assert len(out) <= MAX_CHARS
    (row,) = _table_rows(out)
    assert "two heads: b7d913, xLLL" in row and "LLL…LLL" in row and row.endswith("LLL.py:7` |")
    assert "Cells longer than 2,000 characters are cut short (…)" in out


def test_markdown_cuts_no_cell_of_an_ordinary_report(mixed):
    assert "cut short" not in render_markdown(mixed) and "…" not in render_markdown(mixed)


@given(st.lists(st.tuples(st.sampled_from("&<|`\nx"), st.integers(0, 90_000), st.integers(0, 90_000)),
                min_size=1, max_size=60))
def test_markdown_never_passes_the_comment_limit(cells):
    # "&" is the worst case: five characters ("&amp;") in a cell for one of data.
    findings = tuple(
        heads_finding(message=char * size, locations=(Location(char * where, 1),) if where else (),
                      environment=char * where, revisions=(f"r{i}",), fix=char * size)
        for i, (char, size, where) in enumerate(cells)
    )
    assert len(render_markdown(Report(findings=findings, base="&" * 90_000))) <= MAX_CHARS


# ----------------------------------------------------------------- dispatch

@pytest.mark.parametrize("fmt", REPORT_FORMATS)
def test_render_report_dispatches_and_ignores_options_a_format_lacks(fmt, mixed):
    opts = dict(color=False, verbose=True, width=100, strict=True, selected=set(RULES),
                mermaid="graph TD\n  a --> b", doctor=True)
    out = render_report(fmt, mixed, **opts)
    assert "RG101" in out
    direct = {
        "text": lambda: render_text(mixed, color=False, verbose=True, width=100),
        "json": lambda: render_json(mixed, strict=True),
        "github": lambda: render_github(mixed),
        "sarif": lambda: render_sarif(mixed),
        "junit": lambda: render_junit(mixed, strict=True, selected=set(RULES)),
        "markdown": lambda: render_markdown(mixed, mermaid="graph TD\n  a --> b"),
    }[fmt]()
    assert out == direct


def test_render_report_rejects_an_unknown_format(mixed):
    with pytest.raises(UsageError) as info:
        render_report("yaml", mixed)
    assert "sarif" in (info.value.hint or "")


# ----------------------------------------------------------------- docs/rules.md

def test_committed_rules_doc_is_generated_from_the_catalogue():
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render_rules_doc(RULES.values()), (
        "docs/rules.md is stale: run python scripts/gen_rules_doc.py"
    )
    for code, rule in RULES.items():
        assert f"## {code}" in committed and rule.explanation in committed


def test_rules_doc_script_check_mode_detects_a_stale_file(tmp_path):
    script = ROOT / "scripts" / "gen_rules_doc.py"
    stale = tmp_path / "rules.md"
    stale.write_text("# old\n", encoding="utf-8")
    run = [sys.executable, str(script), "--output", str(stale)]
    assert subprocess.run([*run, "--check"], capture_output=True).returncode == 1
    assert subprocess.run(run, capture_output=True).returncode == 0
    assert subprocess.run([*run, "--check"], capture_output=True).returncode == 0
    assert stale.read_text(encoding="utf-8") == render_rules_doc(RULES.values())


def test_a_chart_past_mermaids_link_limit_is_left_out_of_the_comment_with_a_note():
    # QA: 250 merge bubbles made 1,000 links; GitHub's Mermaid refuses more than 500
    # ("Edge limit exceeded") and showed an error box where the picture should be.
    from revgraph.render.mermaid import MAX_EDGES, edge_count

    def chart(links: int) -> str:
        return "flowchart BT\n" + "".join(f"    n{i} --> n{i + 1}\n" for i in range(links))

    assert edge_count(chart(MAX_EDGES)) == MAX_EDGES
    fits = render_markdown(Report(findings=()), mermaid=chart(MAX_EDGES))
    too_big = render_markdown(Report(findings=()), mermaid={"shop": chart(MAX_EDGES + 1), "billing": chart(3)})
    assert "```mermaid" in fits and "left out" not in fits
    assert too_big.count("```mermaid") == 1 and "more than Mermaid draws by default" in too_big
    assert too_big.index("Environment `shop`") < too_big.index("501 links") < too_big.index("Environment `billing`")


def test_a_chart_past_mermaids_text_size_is_left_out_of_the_comment_with_a_note():
    # Mermaid replaces a source longer than maxTextSize (50,000, in UTF-16 units) by
    # "Maximum text size in diagram exceeded"; a chart under the comment's own limit
    # (65,536) but over Mermaid's was kept and showed that error box.
    from revgraph.render.mermaid import MAX_EDGES, MAX_TEXT_SIZE, refusal

    def chart(label: str) -> str:
        return "flowchart BT\n" + "".join(f'    n{i}["{label}"] --> n{i + 1}\n' for i in range(100))

    fits, too_long = chart("x" * 400), chart("x" * 600)
    wide = chart("\N{GOTHIC LETTER AHSA}" * 260)  # 260 characters, 520 UTF-16 units
    assert len(fits) < MAX_TEXT_SIZE < len(too_long) < 65_000 and len(wide) < MAX_TEXT_SIZE
    assert refusal(fits) is None and "more than Mermaid reads" in refusal(too_long) and refusal(wide)
    assert MAX_EDGES > 100
    comment = render_markdown(Report(findings=()), mermaid=too_long)
    assert "```mermaid" not in comment and "more than Mermaid reads by default (50,000)" in comment
    assert "```mermaid" in render_markdown(Report(findings=()), mermaid=fits)


def test_edge_count_counts_what_render_mermaid_writes():
    from revgraph.model import Revision, RevisionGraph
    from revgraph.render.graphview import build_view, focus
    from revgraph.render.mermaid import edge_count, render_mermaid

    revisions = [Revision(id="r0", down_revisions=())]
    for i in range(1, 30):  # a line, with a merge bubble every few revisions
        revisions.append(Revision(id=f"r{i}", down_revisions=(f"r{i - 1}",)))
        revisions.append(Revision(id=f"b{i}", down_revisions=(f"r{i - 1}",), depends_on=(f"r{max(i - 2, 0)}",)))
    view = focus(build_view(RevisionGraph(revisions), new=set(), landed=set()), "all")
    assert edge_count(render_mermaid(view)) == len(view.edges) > 50
