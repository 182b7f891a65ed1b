"""The rule catalogue: what each code means, why it matters and how to fix it.

Codes never change meaning once released (PRODUCT §3 is the release contract).
Checks emit ``Finding`` objects with these codes; renderers (SARIF rules, JUnit
test cases, ``revgraph rules``, docs/rules.md) read the catalogue.

``select_codes`` resolves ``select`` / ``ignore`` the way ruff does: selectors
are code prefixes (``RG1``, ``RG``, ``ALL``), the most specific selector that
matches a code decides, and at equal specificity ``ignore`` wins.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Iterable

from revgraph.findings import Severity


@dataclass(frozen=True)
class Rule:
    code: str  # "RG101"
    severity: Severity
    name: str  # kebab-case, e.g. "multiple-heads"
    title: str  # one line
    explanation: str  # a paragraph: what it means and why it matters
    example: str  # the triggering situation, plain text
    fix: str  # how to fix it, with the revgraph command when there is one


def _rule(code: str, severity: Severity, name: str, title: str, *,
          explanation: str, example: str, fix: str) -> Rule:
    return Rule(code, severity, name, title, " ".join(explanation.split()),
                textwrap.dedent(example).strip("\n"), " ".join(fix.split()))


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

_CATALOGUE = (
    _rule(
        "RG101", _E, "multiple-heads",
        "The revision graph has more than one head",
        explanation="""
            Two revisions both claim to be the latest: nothing says which runs first.
            `alembic upgrade head` refuses to run ("Multiple head revisions are present
            for given argument 'head'"), so the deploy that runs migrations fails, usually
            after the code is already merged. `upgrade heads` would apply both, in an order
            nobody chose. Heads on distinct branch labels that have already landed are a
            deliberate multi-branch layout and are allowed.
        """,
        example="""
            a1f0c2 (create users)
              <- b7d913 (add users.email)      head
              <- c42e5a (create orders)        head
        """,
        fix="""
            `revgraph fix` re-points the new revision onto the other head (a rebase), so the
            history stays a line; `revgraph fix --strategy merge` writes a merge revision
            instead, as `alembic merge heads` would. When both heads have already landed
            (base itself has them), a rebase has nothing it may move: only the merge works.
            The merge revision is rendered from the environment's `script.py.mako`: where
            there is none, the finding says so instead of offering the merge.
        """,
    ),
    _rule(
        "RG102", _E, "merge-would-fork",
        "Merging HEAD into base would leave more heads than base has",
        explanation="""
            Your branch and base each look healthy alone (one head, or no more than
            `allow_heads`), but they grew from the same parent: someone landed a revision on
            base after you branched. Git merges the two files
            without a conflict because they are different files, and the second head appears
            only on base after the merge, where it breaks the next deploy (see RG101). revgraph
            predicts the merge and names both chains and the parent they share, so you can
            fix it on your branch before it lands.
        """,
        example="""
            base:   a1f0c2 <- c42e5a (create orders)      landed after you branched
            HEAD:   a1f0c2 <- b7d913 (add users.email)    new
            merged: a1f0c2 <- c42e5a, a1f0c2 <- b7d913    two heads
        """,
        fix="""
            Bring base in, then fix: `git merge origin/main; revgraph fix`. `revgraph fix`
            re-points your new chain onto base's head (b7d913.down_revision = "c42e5a"); only
            your new revisions move, never a landed one. Before the merge it refuses: your
            branch does not have base's head to re-point onto yet.
        """,
    ),
    _rule(
        "RG103", _E, "duplicate-revision-id",
        "The same revision id is declared by two files",
        explanation="""
            Alembic keys revisions by id. With two files declaring the same id it only warns
            ("Revision X is present more than once") and keeps whichever file it read last,
            which depends on directory order: one migration silently never runs. It happens
            when a revision is copied or cherry-picked and then edited, when both sides
            of a merge carry the same id with different content, or when two branches take
            the same next number (`--rev-id 0005`).
        """,
        example="""
            versions/3f2a9c_add_email.py      revision = "3f2a9c"
            versions/3f2a9c_add_email_v2.py   revision = "3f2a9c"
        """,
        fix="""
            When base has landed one of the two at its own path (or, with base having
            neither, the branch being merged in or rebased onto has) and the other is not a
            byte-for-byte copy, `revgraph fix` (after merging base) gives the branch's file a
            new id (the next number when ids are numbers), updates the new revisions that
            name it and re-points it; during a merge it renames the file too (`git mv`),
            otherwise rename it as it says. Otherwise, if the files are the same
            migration, delete the copy;
            if not, give the new one a fresh id (e.g. `python -c "import uuid;
            print(uuid.uuid4().hex[-12:])"`) in its `revision` assignment, its `Revision ID:`
            line and its file name, and update any `down_revision` that meant it.
        """,
    ),
    _rule(
        "RG104", _E, "missing-parent",
        "A `down_revision` or `depends_on` names a revision or label that does not exist",
        explanation="""
            A revision points at a parent that is not in the graph: a typo, a parent that was
            deleted or renamed, or a revision that only exists on a branch that has not been
            merged. Alembic cannot build the graph at all ("Revision X referenced from Y is
            not present"), so every alembic command for the environment fails, not just the
            upgrade that would have reached this revision. A `depends_on` that names a
            revision by a prefix of its id counts too: alembic's command line accepts
            prefixes, but its revision map looks `depends_on` up by full id or branch label
            and fails to load (`KeyError`).
        """,
        example="""
            versions/b7d913_add_email.py
                down_revision = "a1f0c3"   # there is no a1f0c3; the parent is a1f0c2
                depends_on = "a1f0"        # a prefix: alembic needs "a1f0c2"
        """,
        fix="""
            Point `down_revision` (or `depends_on`) at an existing revision: `revgraph heads`
            lists the heads, `revgraph graph` shows the whole graph. If the parent lives on
            another branch, merge that branch first.
        """,
    ),
    _rule(
        "RG105", _E, "revision-cycle",
        "The revisions form a cycle",
        explanation="""
            Following `down_revision` (or `depends_on`) from a revision leads back to itself,
            so there is no order in which the loop could run. Alembic raises CycleDetected
            (or DependencyCycleDetected) when it loads the graph and no command works. Cycles
            are nearly always made by hand while resolving a merge conflict: a parent is
            re-pointed at its own descendant.
        """,
        example="""
            a1f0c2.down_revision = "c42e5a"
            b7d913.down_revision = "a1f0c2"
            c42e5a.down_revision = "b7d913"    # a1f0c2 -> b7d913 -> c42e5a -> a1f0c2
        """,
        fix="""
            Break the loop the finding names: the revision that was edited last usually has
            the wrong `down_revision`; `git log -p` on the files shows which. Then run
            `revgraph check`.
        """,
    ),
    _rule(
        "RG106", _E, "duplicate-branch-label",
        "A branch label is declared twice, or collides with a revision id",
        explanation="""
            Branch labels name a line of history (`alembic upgrade shop@head`), so each must be
            unique and must not look like a revision id. Alembic refuses to load the graph
            ("Branch name 'shop' in revision X already used by revision Y"), and a label equal
            to an id makes every command that takes that name ambiguous. It usually comes from
            copying a revision file that starts a labelled branch.
        """,
        example="""
            versions/a1f0c2_shop.py     branch_labels = ("shop",)
            versions/d9e8f7_shop2.py    branch_labels = ("shop",)
        """,
        fix="""
            Rename one of the labels (or remove it from the copy) in its `branch_labels`
            assignment; labels on landed revisions stay as they are.
        """,
    ),
    _rule(
        "RG107", _E, "unreadable-revision",
        "A file in a versions folder cannot be read statically",
        explanation="""
            revgraph never imports migration files: it reads `revision`, `down_revision`,
            `branch_labels` and `depends_on` as literals. A file with a syntax error, a value
            computed at import time (a function call, a variable, an f-string), one of the
            names bound again some other way (`:=`, `global` in a function that may run at
            import, `exec()` or `eval()` in code that may run at import (`builtins.exec()`
            too, `.exec()` on anything, or taken from the builtins by `getattr()`; so is a
            call of a computed function there), `setattr()`, writes through
            `globals()`, `vars()`, `locals()`, `sys.modules` (under any name) or a frame's
            `f_globals`, `del`, `except ... as`, `for`, `with ... as`, an import, `+=`, a
            `from x import *` below the assignment or for a name the file never assigns, a
            module `__getattr__` for such a name) or no `revision` at all cannot be placed in
            the graph, so every other answer about this environment would be a guess. A
            function counts as running at import when code that runs at import names it,
            directly or through other functions (a dunder, a decorated function and the
            methods of a class named there count too: Python calls them unnamed): alembic
            itself only calls `upgrade()` and `downgrade()`, and never while importing.
            Blocks under `if TYPE_CHECKING:` and `if __name__ == "__main__":` are skipped,
            unless the file binds that name itself. So is a revision id alembic forbids: one containing `@`, `-`, `+` or
            `:`, or one of the names it reserves (`base`, `head`, `heads`), which it cannot
            load or reads as its own symbols. Alembic fails on most of these too ("Could not
            determine revision id from filename"), but only when it imports the file, which
            may be in production.
        """,
        example="""
            versions/b7d913_add_email.py:4
                down_revision = get_previous()    # not a literal
        """,
        fix="""
            Write the values as plain literals (strings, tuples, lists or None), as
            `alembic revision` generates them, fix the syntax error, or move the helper module
            out of the versions folder.
        """,
    ),
    _rule(
        "RG201", _E, "landed-revision-repointed",
        "A landed revision was re-pointed (its `down_revision` differs from base)",
        explanation="""
            A revision that is already on base (or on base's remote copy, e.g. `origin/main`
            when base is a local `main` that has not pulled it yet; or on a `protected` ref,
            compared with that ref's copy) may already be applied to real databases.
            Changing its `down_revision` rewrites history those databases have lived through:
            a database stamped at that revision believes everything before it has run, so any
            revision moved in underneath it is silently skipped, and `alembic upgrade head`
            exits 0 with the schema missing those changes. Staging passes, production drifts.
            The fix is always to move the new revisions, never the landed one.
        """,
        example="""
            base:  c42e5a.down_revision = "a1f0c2"
            HEAD:  c42e5a.down_revision = "b7d913"    # b7d913 is new: databases at c42e5a
                                                      # will never run it
        """,
        fix="""
            Restore the landed file (`git restore --source origin/main --staged --worktree -- <path>`), then run
            `revgraph fix`, which re-points the new revisions onto base's head instead.
        """,
    ),
    _rule(
        "RG202", _E, "landed-revision-deleted",
        "A landed revision was deleted",
        explanation="""
            Databases that already applied the revision record its id in alembic_version. Once
            the file is gone, alembic cannot find where those databases are ("Can't locate
            revision identified by ..."), so `upgrade`, `downgrade` and `current` fail on every
            one of them, and the revisions after it lose their parent (RG104). Landed means on
            base or, when base is a local branch behind its remote copy, on that copy, or on a
            `protected` ref (the message names which). Only a revision this branch had (the
            merge base with that ref has it) and then removed counts. A file moved where alembic
            does not look (a subfolder without `recursive_version_locations`, another name) is
            gone for alembic too: the message says where it went.
        """,
        example="""
            base:  versions/c42e5a_create_orders.py
            HEAD:  (file removed)
        """,
        fix="""
            Bring the file back: `git restore --source origin/main --staged --worktree -- <path>`, or, when it was
            moved, `git mv` it back. To undo what it did, write a new revision that reverts it.
        """,
    ),
    _rule(
        "RG203", _W, "landed-revision-edited",
        "A landed revision's body was edited",
        explanation="""
            The code of a landed revision differs from base: not only its layout (what a
            formatter changes: spacing, quotes, line wrapping), comments, docstrings or the
            annotations and spelling of its header values.
            Databases that already ran the old body will never run the new one, while fresh
            databases (tests, new environments) will: the same revision id now means two
            different schemas. Only edits that change nothing at run time are safe. A change
            of `down_revision` (and its `Revises:` line) alone is RG201's, not reported here.
            A revision only a `protected` ref has (a hotfix on a release branch) is compared
            with that ref's copy.
        """,
        example="""
            base:  op.add_column("users", sa.Column("email", sa.String(100)))
            HEAD:  op.add_column("users", sa.Column("email", sa.String(255)))
        """,
        fix="""
            Revert the edit (`git restore --source origin/main --staged --worktree -- <path>`) and make the change
            in a new revision (`alembic revision -m "..."`). Silence it with
            `# revgraph: ignore[RG203]` in the file if the edit really is inert.
        """,
    ),
    _rule(
        "RG204", _W, "new-base",
        "A new base revision (`down_revision = None`) appears that base does not have",
        explanation="""
            A second root starts a second, independent history. Unless it is a deliberate new
            labelled branch, it is a revision generated in an empty or wrong versions folder,
            or a copied file whose `down_revision` was cleared; it adds a head (RG101) and its
            migrations run in no defined order relative to the existing ones.
        """,
        example="""
            versions/e5f6a7_add_audit_log.py
                down_revision = None      # base already has root a1f0c2
        """,
        fix="""
            Set `down_revision` to base's head (`revgraph heads --ref origin/main`) or run
            `revgraph fix`; if it really starts a separate branch, give it `branch_labels`.
        """,
    ),
    _rule(
        "RG301", _W, "overlapping-changes",
        "New revisions on both sides touch the same table or column",
        explanation="""
            Since the merge base, both sides added revisions that change the same table or
            column (`op.*` calls, `sa.Table`, literal table names in `op.execute`). Once the
            graph is made linear again, one of them runs first everywhere, but a shared
            database that already ran the other branch's revision (a staging server, a
            preview environment) ran them in the opposite order. Renames, drops, NOT NULL
            constraints and data migrations on the same table are where that order changes
            the result.
        """,
        example="""
            yours:   b7d913  op.add_column("users", sa.Column("email", ...))
            theirs:  c42e5a  op.rename_table("users", "accounts")
        """,
        fix="""
            Review both revisions together (`revgraph graph --focus new`), adjust yours to run
            after theirs, then silence the finding for that revision with
            `# revgraph: ignore[RG301]`.
        """,
    ),
    _rule(
        "RG302", _W, "redundant-merge-parent",
        "A merge revision names a parent that is already an ancestor of another parent",
        explanation="""
            One of the merge revision's parents already comes before another of its parents,
            so the merge joins nothing: the graph shows a fork that does not exist.
            `alembic history`, `branches` and downgrades walk the extra edge, and
            tools that re-point revisions have to special-case it. It usually comes from
            `alembic merge` run on a stale checkout, or a merge written by hand.
        """,
        example="""
            d0e1f2.down_revision = ("a1f0c2", "c42e5a")   # a1f0c2 is already an
                                                          # ancestor of c42e5a
        """,
        fix="""
            Drop the redundant parent from the `down_revision` tuple (keep the descendant). A
            merge that is left with one parent is an ordinary revision.
        """,
    ),
    _rule(
        "RG401", _E, "lock-file-mismatch",
        "The heads lock file does not match the graph's heads",
        explanation="""
            The lock file records the environment's heads on one line each, so that two
            branches that both add a revision change the same line and git stops at the merge
            instead of at the deploy. A lock file that no longer matches the graph gives no
            such protection, and the merge driver would reason from the wrong heads. A lock
            file committed with git's conflict markers still in it (`<<<<<<<`, `=======`,
            `>>>>>>>`) is a mismatch too, even when both sides record the same heads. So is
            a missing lock file in a project that keeps one (a `lock_file` setting names it,
            `.gitattributes` gives it `merge=revgraph`, or base or HEAD holds it); a project
            that never adopted a lock file gets no RG401. While
            a revision file cannot be read at all (RG107: conflict markers, a broken header),
            the graph's heads are unknown: a stale lock file waits for that file to be mended,
            as `revgraph lock` does.
        """,
        example="""
            migrations/revgraph.lock:   c42e5a  create orders
            graph heads:                b7d913  add users.email
        """,
        fix="""
            `revgraph lock` rewrites it from the graph (during a conflicted merge or rebase,
            `revgraph fix` does, and stages it; with the heads competing there, `revgraph lock`
            writes nothing). `revgraph install --pre-commit` keeps it current on every commit.
        """,
    ),
    _rule(
        "RG402", _W, "docstring-mismatch",
        "The docstring's `Revision ID:` / `Revises:` disagree with the assignments",
        explanation="""
            Alembic runs what the `revision` and `down_revision` assignments say; the docstring
            header is what people read in review, in `grep`, and in `alembic history`'s
            neighbours. After a hand-made re-point the two disagree, and the next reviewer
            trusts the wrong one.
        """,
        example="""
            \"\"\"add users.email

            Revision ID: b7d913
            Revises: a1f0c2
            \"\"\"
            revision = "b7d913"
            down_revision = "c42e5a"
        """,
        fix="""
            `revgraph doctor --fix` rewrites the docstring lines from the assignments,
            touching nothing else.
        """,
    ),
    _rule(
        "RG403", _I, "filename-mismatch",
        "The file name does not carry the revision id where `file_template` says it should",
        explanation="""
            The environment's `file_template` puts the revision id in the file name, and this
            file's name does not match its `revision`. Alembic does not care, but people and
            tools look files up by id (error messages, `alembic_version`, review comments),
            and a name carrying another revision's id sends them to the wrong file. Not said
            of an id several files declare (RG103): a copy whose `revision` is still to change.
        """,
        example="""
            file_template = %(rev)s_%(slug)s
            versions/a1f0c2_add_email.py    revision = "b7d913"
        """,
        fix="""
            Rename the file to match (`git mv versions/a1f0c2_add_email.py
            versions/b7d913_add_email.py`).
        """,
    ),
    _rule(
        "RG404", _W, "unknown-ignore-code",
        "A `# revgraph: ignore[...]` comment names no rule",
        explanation="""
            An ignore comment names something that is not a rule code, a code prefix
            (`RG3`) or `ALL`, usually a typo (`RG31` for `RG301`), or names nothing at all
            (`ignore[]`). It silences nothing, so
            the finding it was written for is still reported; the author believes it
            handled, and the next reader believes the comment.
        """,
        example="""
            op.add_column("users", sa.Column("email", sa.String()))  # revgraph: ignore[RG31]
        """,
        fix="""
            Correct the code (`revgraph rules` lists them), or delete the comment.
        """,
    ),
    _rule(
        "RG501", _E, "database-unknown-revision",
        "The database is stamped at a revision the graph does not have",
        explanation="""
            The database given with `--db` records a revision in alembic_version that no file
            in this graph declares: it was migrated from another branch (a feature branch run
            against a shared database), or the revision was deleted or renamed (RG202).
            Alembic cannot tell where the database stands ("Can't locate revision identified
            by ..."), so upgrades fail until the graph and the database agree again.
        """,
        example="""
            alembic_version:  9a8b7c      (only on branch feature/reports)
            graph heads:      c42e5a
        """,
        fix="""
            Check out the branch that has the revision and downgrade the database to a
            revision both graphs share, or land that revision; use `alembic stamp` only after
            checking by hand that the schema matches the target.
        """,
    ),
    _rule(
        "RG502", _I, "database-behind",
        "The database is behind head",
        explanation="""
            The database given with `--db` is at an older revision than the graph's head. This
            is the normal state before a deploy; the finding lists the revisions that
            `alembic upgrade head` would apply, in order, so you can see what the next deploy
            will do. Not reported alongside RG501: alembic cannot place a database stamped
            at an unknown revision, so there is no plan to show.
        """,
        example="""
            alembic_version:  a1f0c2
            would apply:      b7d913, c42e5a
        """,
        fix="""
            `alembic upgrade head` when you mean to apply them.
        """,
    ),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in _CATALOGUE}


def find_rule(name_or_code: str) -> Rule:
    """The rule for a code ("RG101", "rg101") or a name ("multiple-heads")."""
    from revgraph.errors import UsageError

    wanted = name_or_code.strip()
    rule = RULES.get(wanted.upper())
    if rule is not None:
        return rule
    for rule in RULES.values():
        if rule.name == wanted.lower():
            return rule
    raise UsageError(f"unknown rule {name_or_code!r}", hint="`revgraph rules` lists them")


_EVERYTHING = "ALL"


def select_codes(
    all_codes: Iterable[str],
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> set[str]:
    """The codes that are on, given ruff-style ``select`` and ``ignore`` selectors.

    An empty ``select`` means every code. A selector is ``ALL`` or a code prefix
    (``RG``, ``RG1``, ``RG101``); for each code the most specific matching selector
    decides, and ``ignore`` wins a tie. A selector that matches no code is a
    ``UsageError`` (a typo would otherwise silently switch a rule off or on).
    """
    codes = sorted(set(all_codes))
    selects = _normalise(select) or [_EVERYTHING]
    ignores = _normalise(ignore)
    _reject_unknown(selects + ignores, codes)
    return {code for code in codes if _is_on(code, selects, ignores)}


def split_codes(values: Iterable[str] | None) -> tuple[str, ...]:
    """``--select`` / ``--ignore`` as given (each a list separated by commas or spaces), one
    upper-case selector each."""
    out: list[str] = []
    for value in values or ():
        out.extend(v.upper() for v in value.replace(",", " ").split())
    return tuple(out)


def selected_rules(select: Iterable[str], ignore: Iterable[str]) -> set[str]:
    """The codes of every known rule that ``select`` and ``ignore`` leave on."""
    return select_codes(list(RULES), select, ignore)


def _normalise(selectors: Iterable[str]) -> list[str]:
    return [s.strip().upper() for s in selectors if s.strip()]


def selector_matches(selector: str, code: str) -> bool:
    """Whether an ``--select``/``--ignore`` selector (``ALL`` or a code prefix) names ``code``."""
    return selector == _EVERYTHING or code.startswith(selector)


def comment_selector_matches(selector: str, code: str) -> bool:
    """Whether a selector of a ``# revgraph: ignore[...]`` comment names ``code``: read as
    ``--ignore`` reads one, but it must begin with RG (or be ALL), so a stray "R" names nothing."""
    return (selector == _EVERYTHING or selector.startswith("RG")) and selector_matches(selector, code)


def unmatched_selectors(selectors: Iterable[str], codes: Iterable[str], *, in_comment: bool = False) -> list[str]:
    """The selectors that name none of ``codes``: read as ``--select``/``--ignore`` read
    them, or (``in_comment``) as a ``# revgraph: ignore[...]`` comment's."""
    matches = comment_selector_matches if in_comment else selector_matches
    known = tuple(codes)
    return [s for s in selectors if not any(matches(s, code) for code in known)]


def _specificity(selector: str) -> int:
    return 0 if selector == _EVERYTHING else len(selector)


def _best(code: str, selectors: list[str]) -> int:
    """Specificity of the most specific selector matching ``code``; -1 when none does."""
    return max((_specificity(s) for s in selectors if selector_matches(s, code)), default=-1)


def _is_on(code: str, selects: list[str], ignores: list[str]) -> bool:
    selected = _best(code, selects)
    return selected >= 0 and selected > _best(code, ignores)


def _reject_unknown(selectors: list[str], codes: list[str]) -> None:
    from revgraph.errors import UsageError

    unknown = unmatched_selectors(selectors, codes)
    if unknown:
        raise UsageError(
            f"unknown rule selector {', '.join(map(repr, unknown))}",
            hint="selectors are rule codes or their prefixes (RG1, RG101) or ALL; "
            "`revgraph rules` lists the codes",
        )
