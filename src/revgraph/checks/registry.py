"""Every rule, run in one place: select/ignore, ignore comments, deterministic order.

Suppression with ``# revgraph: ignore[CODE]`` (or ``ignore[*]``) in a revision
file works on a finding's *subjects*, the revision files it is about:

* most findings concern one revision (or one revision on each side, RG301):
  the comment in **any** subject's file silences it. RG101 too: whoever adds a
  deliberate extra head marks their own file, not the landed head's;
* findings about the graph as a whole, where one file must not speak for the
  others (RG102 fork, RG103 duplicate id, RG105 cycle, RG106 label clash),
  are silenced only when **every** subject's file carries the comment. RG102's
  subjects are the new revisions of both chains, never a landed head.
* findings whose subject is not a revision file (RG107 unreadable file, RG202
  deleted file, RG401 lock file, RG501 database stamp) cannot be silenced by a
  comment; use ``ignore`` in the configuration.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from revgraph.checks import consistency, database, graph, landed, overlap
from revgraph.checks.context import CheckContext, Hit
from revgraph.findings import Finding, Severity
from revgraph.model import Revision

RuleFunction = Callable[[CheckContext], Iterable[Hit]]

RULE_FUNCTIONS: Mapping[str, RuleFunction] = {
    "RG101": graph.check_multiple_heads,
    "RG102": graph.check_merge_would_fork,
    "RG103": graph.check_duplicate_ids,
    "RG104": graph.check_dangling,
    "RG105": graph.check_cycles,
    "RG106": graph.check_label_problems,
    "RG107": graph.check_parse_problems,
    "RG201": landed.check_repointed,
    "RG202": landed.check_deleted,
    "RG203": landed.check_body_edited,
    "RG204": landed.check_new_base,
    "RG301": overlap.check_overlapping_changes,
    "RG302": overlap.check_redundant_merge_parents,
    "RG401": consistency.check_lock_file,
    "RG402": consistency.check_docstrings,
    "RG403": consistency.check_file_names,
    "RG404": consistency.check_ignore_comments,
    "RG501": database.check_unknown_stamp,
    "RG502": database.check_database_behind,
}

# Findings silenced only when every subject's file says so (see module docstring).
SUPPRESS_REQUIRES_ALL = frozenset({"RG102", "RG103", "RG105", "RG106"})


def rule_codes() -> tuple[str, ...]:
    return tuple(sorted(RULE_FUNCTIONS))


def enabled_codes(select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[str]:
    """Codes that run, ruff-style; an unknown selector is a ``UsageError``."""
    from revgraph.rules import select_codes

    return sorted(select_codes(rule_codes(), select, ignore))


def run_checks(
    ctx: CheckContext, *, select: Sequence[str] = (), ignore: Sequence[str] = ()
) -> list[Finding]:
    """Every enabled rule on ``ctx``, suppressions applied, in a deterministic order."""
    codes = enabled_codes(select, ignore)
    token = _REPORTED.set(frozenset(codes))
    try:
        findings = [
            to_finding(ctx, hit)
            for code in codes
            for hit in _hits_of(code, ctx)
            if not is_suppressed(hit)
        ]
    finally:
        _REPORTED.reset(token)
    return sorted(set(findings), key=finding_sort_key)


# The codes the running ``run_checks`` reports (None: outside one, every code).
_REPORTED: ContextVar[frozenset[str] | None] = ContextVar("revgraph_reported_codes", default=None)


def reported_hit(code: str, ctx: CheckContext) -> Hit | None:
    """The first finding of rule ``code`` the user will see: the rule is selected and
    the finding not silenced by an ignore comment. A rule that defers to another
    one's finding (RG401 to RG101/RG201/RG202) must not defer to a finding the
    project chose to ignore: the user would be sent to mend what they see nowhere."""
    reported = _REPORTED.get()
    if reported is not None and code not in reported:
        return None
    return next((hit for hit in _hits_of(code, ctx) if not is_suppressed(hit)), None)


def _hits_of(code: str, ctx: CheckContext) -> Iterator[Hit]:
    for hit in RULE_FUNCTIONS[code](ctx):
        assert hit.code == code, f"{code} produced a {hit.code} finding"
        yield hit


def suppresses(rev: Revision, code: str) -> bool:
    """Whether ``rev``'s ignore comments name ``code``: the code, a prefix of it as
    ``--ignore`` takes one (``RG4``, ``RG``), ``ALL`` or a bare ``ignore`` (``*``)."""
    ignores = rev.ignores
    if not ignores:
        return False
    if "*" in ignores:
        return True
    from revgraph.rules import comment_selector_matches

    return any(comment_selector_matches(s, code) for s in ignores)


def is_suppressed(hit: Hit) -> bool:
    if not hit.subjects:
        return False
    votes = (suppresses(rev, hit.code) for rev in hit.subjects)
    return all(votes) if hit.code in SUPPRESS_REQUIRES_ALL else any(votes)


def to_finding(ctx: CheckContext, hit: Hit) -> Finding:
    from revgraph.rules import RULES

    rule = RULES[hit.code]
    return Finding(
        code=hit.code,
        severity=Severity(rule.severity),
        message=hit.message,
        environment=ctx.environment,
        revisions=hit.revisions,
        locations=hit.locations,
        explanation=rule.explanation,
        fix=hit.fix,
    )


def finding_sort_key(finding: Finding) -> tuple:
    first = finding.locations[0] if finding.locations else None
    return (
        finding.severity.rank,
        finding.code,
        first.path if first else "",
        first.line if first else 0,
        finding.message,
        finding.revisions,
        finding.environment,
    )
