"""RG401–RG404: what else records the graph (lock file, docstrings, file names) agrees, and ignore comments that name no rule."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Container, Iterable, Iterator
from operator import attrgetter

from revgraph.checks.context import CheckContext, Hit, id_list, name_carries, named, where
from revgraph.checks.landed import repointed_landed, restore_command
from revgraph.findings import Location
from revgraph.model import Revision, RevisionGraph
from revgraph.shellwords import shell_word

_by_id = attrgetter("id")


# ------------------------------------------------------------------ RG401
def lock_disagreement(recorded: Iterable[str], heads: Iterable[str], *, conflicted: bool = False) -> str | None:
    """Why a lock file does not match the graph's ``heads``: "conflicted" or "stale"; None when it does.

    The one comparison behind RG401 (``revgraph check``) and ``revgraph lock
    --check`` (``api.lock``): they must never disagree, ``check`` being the
    CI backstop. Only the ids count (the messages are informational). A lock
    file holding conflict markers never matches, even when both sides record
    the graph's heads (a merge committed mid-conflict): the merge driver takes
    such a side for a conflict, and the file no longer says what it is for.
    """
    if conflicted:
        return "conflicted"
    return None if set(recorded) == set(heads) else "stale"


def unreadable_revision_file(ctx: CheckContext) -> str | None:
    """A file HEAD holds that could not be read at all (RG107: conflict markers, a broken
    header), so no revision of it is in the graph; None when every file gave its revision.

    The graph's heads are then unknown: that file may declare a head, or the parent of
    one. ``revgraph lock`` refuses to tell them (``api.lock``), so RG401 does not either.
    A syntax error past the header (``api.checking._with_syntax_problems``) leaves the revision
    in the graph: its heads stand.
    """
    if not ctx.head.problems:
        return None
    read = {rev.path for rev in ctx.head.revisions}
    return next((p.path for p in ctx.head.problems if p.path not in read), None)


def check_lock_file(ctx: CheckContext) -> Iterator[Hit]:
    """RG401: the lock file's heads are not the graph's heads, or it holds conflict markers,
    or the project keeps one and it is missing."""
    if ctx.lock_heads is None:
        if ctx.lock_missing is not None:
            yield _missing_lock(ctx)
        return
    actual = ctx.head_graph.heads
    why = lock_disagreement(ctx.lock_heads, actual, conflicted=ctx.lock_conflicted)
    if why is None:
        return
    unreadable = unreadable_revision_file(ctx)
    if unreadable is not None and why == "stale":
        return  # RG107 names the file; until it is mended, the heads the lock should record are unknown
    lock = ctx.lock_path or "the lock file"
    recorded = set(ctx.lock_heads)
    fix: str | None = "revgraph lock"
    if why == "conflicted" and unreadable is not None:
        # The markers are a fact; the heads (and so the lock fix or lock would write) are not.
        fix = None
        message = (
            f"{lock} holds git conflict markers (<<<<<<< ======= >>>>>>>); the heads it should record "
            f"are unknown until {unreadable} can be read (RG107): mend that file first"
        )
    elif why == "conflicted":
        # Mid-merge with competing heads, `revgraph lock` would record them all:
        # the command is RG101's (fix re-points and rewrites this file), or none
        # where RG101 says what must be mended first; with one id in two files,
        # `revgraph lock` would record one head over both. An RG101 the project
        # ignores is heads kept on purpose: `revgraph lock` records them.
        from revgraph.checks.registry import reported_hit

        race = reported_hit("RG101", ctx)
        if race is not None:
            fix = race.fix
        elif ctx.head_graph.duplicates:  # one id in two files: fix gives one a new id, or says why not
            fix = ctx.fix_with_base(ctx.fix_command(renumbers=True))
        # Heads the project keeps on purpose (RG101 there, but ignored): `revgraph fix`
        # would rebase them, so it is not named.
        from revgraph.checks.graph import check_multiple_heads

        kept = race is None and next(check_multiple_heads(ctx), None) is not None
        then = ("`revgraph lock` rewrites it, recording them" if kept
                else "during a merge or rebase run `revgraph fix`, otherwise `revgraph lock` rewrites it")  # fmt: skip
        message = (
            f"{lock} holds git conflict markers (<<<<<<< ======= >>>>>>>); the graph's heads are "
            f"{id_list(sorted(actual)) or 'none'}: {then}"
        )
    else:
        message = (
            f"{lock} records {'heads ' + id_list(sorted(recorded)) if recorded else 'no head'} but the graph's heads are "
            f"{id_list(sorted(actual)) or 'none'}"
        )
        fix, why_not = _stale_lock_fix(ctx)
        message += why_not
    # No subjects: the lock file is not a revision and carries no ignore comments.
    yield Hit(
        "RG401",
        message,
        revisions=tuple(sorted(recorded | set(actual))),
        locations=(Location(ctx.lock_path, 1),) if ctx.lock_path else (),
        fix=fix,
    )


def _stale_lock_fix(ctx: CheckContext) -> tuple[str | None, str]:
    """RG401's fix for a stale lock file, and what to add to its message.

    ``revgraph lock`` records the graph's heads as they are: over competing
    heads (RG101) it would write the fork into the lock file, and git would then
    merge it in quietly; over a landed revision re-pointed or deleted
    (RG201/RG202) it would record what restoring that file undoes. Those
    findings' own fixes come first (RG101's rewrites the lock file too).
    """
    from revgraph.checks.registry import reported_hit

    # Only findings the user sees: an ignored RG101 (heads kept on purpose) or an
    # RG201 silenced in its file is the graph the project wants, and `revgraph lock`
    # records it.
    # A landed revision's change first: the competing heads it makes are its doing.
    for code in ("RG201", "RG202"):
        if reported_hit(code, ctx) is not None:
            return None, (
                f"; `revgraph lock` would record heads a landed revision's change made ({code}): "
                f"mend that first, then run `revgraph lock` if the lock file is still stale"
            )
    race = reported_hit("RG101", ctx)
    if race is not None and race.fix is not None:
        return race.fix, "; the graph has competing heads (RG101): its fix rewrites the lock file too"
    if race is not None:
        return None, "; the graph has competing heads (RG101): join them first, then run `revgraph lock`"
    return "revgraph lock", ""


def _missing_lock(ctx: CheckContext) -> Hit:
    lock = ctx.lock_path or "the lock file"
    unreadable = unreadable_revision_file(ctx)
    if unreadable is not None:  # `revgraph lock` refuses until the heads are known
        then, fix = f"mend {unreadable} (RG107), then run `revgraph lock` to write it", None
    elif ctx.lock_in_the_way is not None:  # `revgraph lock` refuses to replace it
        then, fix = f"remove the {ctx.lock_in_the_way} that stands there, then run `revgraph lock` to write it", None
    else:
        then, fix = "run `revgraph lock` to write it", "revgraph lock"
    instead = f" (a {ctx.lock_in_the_way} is there instead)" if ctx.lock_in_the_way else ""
    return Hit(
        "RG401",
        f"the lock file {lock} is missing{instead}, but this project keeps one ({ctx.lock_missing}): {then}",
        revisions=tuple(sorted(ctx.head_graph.heads)),
        locations=(Location(ctx.lock_path, 1),) if ctx.lock_path else (),
        fix=fix,
    )


# ------------------------------------------------------------------ RG402
def revises_ids(text: str) -> frozenset[str]:
    """The ids of a docstring's ``Revises:`` value (``a, b`` for merges, empty for a base)."""
    ids = {part.strip().strip("'\"()[]") for part in text.split(",")}
    return frozenset(i for i in ids if i and i != "None")


def _docstring_disagreements(rev: Revision) -> list[str]:
    found = []
    if rev.doc_revision_id is not None and rev.doc_revision_id.strip() != rev.id:
        found.append(f"Revision ID: {rev.doc_revision_id.strip()} but revision = {rev.id}")
    if rev.doc_revises is not None and revises_ids(rev.doc_revises) != set(rev.down_revisions):
        down = ", ".join(_as_written(name) for name in rev.down_revisions) or "None"
        found.append(f"Revises: {rev.doc_revises.strip() or '(empty)'} but down_revision = {down}")
    return found


# A character that ``revises_ids`` or ``str.strip`` would treat specially.
_UNPLAIN = re.compile(r"[\s,'\"()\[\]]")


def _as_written(name: str) -> str:
    """A down_revision name for the message: quoted when bare it would read as another value
    (``''`` is not None, ``'None'`` is not None, ``'a, b'`` is not two names)."""
    return repr(name) if not name or name == "None" or _UNPLAIN.search(name) else name


def _plain_names(graph: RevisionGraph) -> bool:
    """Whether every id and every name a down_revision uses reads back as itself.

    Then a ``Revision ID:`` equal to the id agrees (strip changes nothing),
    and so does a ``Revises:`` equal to the down_revisions joined by ", "
    (``revises_ids`` gives back exactly those names).
    """
    names = list(graph.revisions)
    names.extend(d.target for d in graph.dangling if d.kind == "down")
    if "" in names or "None" in names:
        return False
    return _UNPLAIN.search("\x00".join(names)) is None


def _docstring_suspects(graph: RevisionGraph) -> list[Revision]:
    """A superset of the revisions whose docstring disagrees, found in one cheap pass.

    The exact test (``_docstring_disagreements``) splits and strips each
    docstring; at 20,000 revisions that is most of this rule's time, and
    nearly every docstring is alembic's own rendering of the assignments.
    """
    revisions = graph.revisions.values()
    if not _plain_names(graph):
        return list(revisions)
    return [
        rev
        for rev in revisions
        if ((doc_id := rev.doc_revision_id) is not None and doc_id != rev.id)
        or (
            (revises := rev.doc_revises) is not None
            and (revises,) != (downs := rev.down_revisions)
            and revises != ", ".join(downs)
        )
    ]


def check_docstrings(ctx: CheckContext) -> Iterator[Hit]:
    """RG402."""
    for rev in sorted(_docstring_suspects(ctx.head_graph), key=_by_id):
        problems = _docstring_disagreements(rev)
        if not problems:
            continue
        id_wrong = (rev.doc_revision_id or rev.id).strip() != rev.id
        key = "revision_id_line" if id_wrong else "revises_line"
        if key not in rev.spans:
            key = "docstring"
        fix: str | None = "revgraph fix --docstrings"
        landed = repointed_landed(ctx, rev)
        if landed is not None:  # RG201: the assignment is the wrong side; base's file has both right
            fix = restore_command(ctx, landed, rev)
        yield Hit(
            "RG402",
            f"docstring of {named(rev, key)} disagrees with the assignments: {'; '.join(problems)}",
            revisions=(rev.id,),
            locations=(where(rev, key),),
            fix=fix,
            subjects=(rev,),
        )


# ------------------------------------------------------------------ RG403
def check_file_names(ctx: CheckContext) -> Iterator[Hit]:
    """RG403: the template puts the id in the name, but this file's name lacks it."""
    if "%(rev)s" not in ctx.file_template:
        return
    # posixpath.basename(path) is path.rpartition("/")[2]. An id inside a longer
    # word (a00001 in a00001x_root.py) is not carried (~4 ms at 20k revisions).
    lacking = [rev for rev in ctx.head_graph if not name_carries(rev.path.rpartition("/")[2], rev.id)]
    # An id several files declare (RG103) is not this file's id for sure: a copy
    # whose `revision =` was not changed yet. Naming the file after it would
    # undo the name the user chose for the new id; RG103 comes first.
    duplicated = ctx.head_graph.duplicates
    for rev in sorted(lacking, key=_by_id):
        if rev.id in duplicated:
            continue
        name = posixpath.basename(rev.path)
        if not name:
            continue
        yield Hit(
            "RG403",
            f"file name of {named(rev)} does not carry its revision id "
            f"(file_template {ctx.file_template})",
            revisions=(rev.id,),
            locations=(where(rev),),
            fix=_rename_command(ctx, rev, name, ctx.head_graph.revisions),
            subjects=(rev,),
        )


def _rename_command(ctx: CheckContext, rev: Revision, name: str, known: Container[str] = ()) -> str | None:
    """``git mv`` (``mv`` outside git) to the name with the id put where ``file_template`` puts it; None when
    the name does not show where that is.

    The id is inserted after whatever the template puts before ``%(rev)s``
    (nothing in alembic's default ``%(rev)s_%(slug)s``; the date in its
    commented-out ``%(year)d_..._%(minute).2d-%(rev)s_%(slug)s``), followed by
    the template's separator. Nothing is removed, except an id standing in that
    place: another revision's (one of ``known``), the file's old id after it was
    given a new one (``0004_add_invoices.py`` of revision 0005); or a word shaped
    like alembic's generated ids and like this one (12+ hex digits, same length),
    which no message's slug holds: a mistyped id (neutron's
    ``31337ec0ffee_flavors.py`` of revision 313373c0ffee). A name that does
    not start the way the template does (a hand-made name without the date) gets
    no command: where the id goes would be a guess.
    """
    before, found, after = ctx.file_template.rpartition("/")[2].partition("%(rev)s")
    leading = _leading_pattern(before) if found else None
    match = leading.match(name) if leading is not None else None
    if match is None:
        return None
    separator = after[:1] if after[:1] and not after[:1].isalnum() and after[:1] != "%" else ""
    rest = name[match.end() :]
    stale = rest.partition(separator)[0] if separator else ""
    if stale and stale != rev.id and (stale in known or _generated_alike(stale, rev.id)):
        rest = rest[len(stale) + len(separator) :]
    renamed = f"{name[: match.end()]}{rev.id}{separator}{rest}"
    target = posixpath.join(posixpath.dirname(rev.path), renamed)
    mv = "git mv" if ctx.in_git else "mv"
    return f"{mv} -- {shell_word(ctx.here(rev.path))} {shell_word(ctx.here(target))}"


def _generated_alike(word: str, rid: str) -> bool:
    """Whether ``word`` and ``rid`` both look like ids ``alembic revision`` generates
    (the last 12 hex digits of a uuid4), of the same length."""
    return len(word) == len(rid) >= 12 and all(c in _HEX for c in word) and all(c in _HEX for c in rid)


_HEX = frozenset("0123456789abcdef")


# alembic's file_template tokens: %(rev)s, %(slug)s, %(epoch)s and the date's %(year)d, %(month).2d, ...
_TEMPLATE_TOKEN = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sd]")


def _leading_pattern(before: str) -> re.Pattern[str] | None:
    """A pattern for what ``before`` (the template ahead of ``%(rev)s``) renders to;
    None when it holds the slug or an unknown token (no telling where it ends)."""
    parts, at = [], 0
    for token in _TEMPLATE_TOKEN.finditer(before):
        if token.group(1) not in ("epoch", "year", "month", "day", "hour", "minute", "second"):
            return None
        parts += [re.escape(before[at : token.start()]), r"\d+"]
        at = token.end()
    rest = before[at:]
    if "%" in rest:
        return None  # a token this reading does not know
    return re.compile("".join(parts) + re.escape(rest))


# ------------------------------------------------------------------ RG404
def check_ignore_comments(ctx: CheckContext) -> Iterator[Hit]:
    """RG404: an ignore comment names something no rule answers to (a typo silences nothing)."""
    from revgraph.rules import RULES, unmatched_selectors

    commented = sorted((rev for rev in ctx.head_graph if rev.ignores), key=lambda rev: (rev.id, rev.path))
    for rev in commented:
        # "*" is a bare `ignore`, which names every rule.
        unknown = sorted(unmatched_selectors((s for s in rev.ignores if s != "*"), RULES, in_comment=True))
        if not unknown:
            continue
        lines = dict(rev.ignore_lines)
        line = min((lines[s] for s in unknown if s in lines), default=None) or rev.line_of()
        yield Hit(
            "RG404",
            f"the ignore comment at {rev.path}:{line} ({rev.id}) names no rule: "
            f"{', '.join(s or 'empty brackets' for s in unknown)} "
            "(a rule code such as RG301, a prefix such as RG3, or ALL); it silences nothing",
            revisions=(rev.id,),
            locations=(Location(rev.path, line),),
            subjects=(rev,),
        )
