"""Byte-exact rewriting of the two places that say where a revision hangs.

Only the bytes of the ``down_revision`` value literal and of the docstring's
``Revises:`` value change; everything else -- quote style, annotation,
comments, newline style, encoding -- is the author's and stays. No ``ast``
round trip (it would lose the formatting): spans come from the parser and
new literals are rendered here in the style of the ones they replace.
"""

from __future__ import annotations

import ast
import re
from typing import Iterable, Mapping, Sequence

from revgraph.errors import FixRefused
from revgraph.model import Span

_QUOTES = ("'", '"')


def literal_quote(literal: bytes) -> str | None:
    """The quote character a literal's (first) string uses, or None (``None``, ``()``)."""
    for char in literal.decode("utf-8", errors="replace"):
        if char in _QUOTES:
            return char
    return None


def literal_container(literal: bytes) -> str | None:
    """``"("`` or ``"["`` when the literal is a tuple or list, else None."""
    text = literal.strip()
    if not text.startswith((b"(", b"[")):
        return None
    try:
        value = ast.literal_eval(text.decode("utf-8"))
    except (ValueError, SyntaxError, UnicodeDecodeError):
        return None
    if isinstance(value, (tuple, list)):
        return "[" if isinstance(value, list) else "("
    return None  # a parenthesised plain string: ('abc')


def prevailing_quote(source: bytes, spans: Mapping[str, Span] | None = None) -> str:
    """The quote style a file uses for short strings.

    The ``revision = '...'`` literal says it best; otherwise the majority of
    single-line string literals (docstrings do not count); alembic's own
    (``repr``) style when unsure.
    """
    if spans and "revision" in spans:
        quote = literal_quote(span_bytes(source, spans["revision"]))
        if quote:
            return quote
    counts = {"'": 0, '"': 0}
    for token in _string_tokens(source):
        body = token.lstrip("rRbBuUfF")
        if body[:3] not in ("'''", '"""') and body[:1] in counts:
            counts[body[0]] += 1
    return '"' if counts['"'] > counts["'"] else "'"


def _string_tokens(source: bytes) -> list[str]:
    import io
    import tokenize

    found = []
    try:
        for token in tokenize.tokenize(io.BytesIO(source).readline):
            if token.type == tokenize.STRING:
                found.append(token.string)
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        pass  # count what was read before the problem
    return found


def quote_string(value: str, quote: str) -> str:
    """``value`` as a Python string literal in ``quote`` style."""
    out = []
    for char in value:
        if char in ("\\", quote):
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])  # \n, \x00, ...
    return quote + "".join(out) + quote


def render_down_revision(ids: Sequence[str], *, quote: str, like: bytes | None = None) -> bytes:
    """A ``down_revision`` literal for ``ids``, shaped like the literal it replaces.

    No ids -> ``None``; one id -> a string (or a one-element tuple/list when
    the original was one); several -> a tuple (a list when the original was).
    """
    container = literal_container(like) if like is not None else None
    items = [quote_string(i, quote) for i in ids]
    if not items:
        return b"None"
    if len(items) == 1 and container is None:
        return items[0].encode("utf-8")
    if container == "[":
        return ("[" + ", ".join(items) + "]").encode("utf-8")
    inner = ", ".join(items) + ("," if len(items) == 1 else "")
    return ("(" + inner + ")").encode("utf-8")


def render_revises(ids: Sequence[str], like: bytes | None = None) -> bytes:
    """The docstring ``Revises:`` value, as alembic's template writes it (``a, b``).

    A template that writes ``Revises: ${down_revision}`` (no ``comma`` filter,
    as superset's does) gives a merge ``('a', 'b')``, Python's repr of the
    tuple. When ``like``, the value being replaced, has that form, a value of
    several ids keeps it (its brackets and quote); one id or none is what such
    a template writes for them, the id alone or ``None``.
    """
    form = _repr_form(like) if like is not None else None
    if form is None:
        return ", ".join(ids).encode("utf-8")
    opening, quote = form
    if not ids:
        return b"None"
    if len(ids) == 1:
        return ids[0].encode("utf-8")
    closing = ")" if opening == "(" else "]"
    return (opening + ", ".join(f"{quote}{i}{quote}" for i in ids) + closing).encode("utf-8")


def _repr_form(value: bytes) -> tuple[str, str] | None:
    """``(opening bracket, quote)`` when ``value`` is a Python tuple or list repr of strings."""
    text = value.decode("utf-8", "replace").strip()
    if not text or text[0] not in "([":
        return None
    ids = literal_ids(text.encode("utf-8"))
    if not ids:
        return None
    quote = "'" if text[1:].lstrip()[:1] != '"' else '"'
    return text[0], quote


def span_bytes(source: bytes, span: Span) -> bytes:
    return source[span.start : span.end]


def literal_ids(literal: bytes) -> tuple[str, ...] | None:
    """The ids a ``down_revision`` literal names, or None when it is not one."""
    try:
        value = ast.literal_eval(literal.decode("utf-8").strip())
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        return None
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def replace_spans(source: bytes, replacements: Iterable[tuple[int, int, bytes]]) -> bytes:
    """``source`` with each ``[start, end)`` replaced; ranges must not overlap."""
    ordered = sorted(replacements, key=lambda r: (r[0], r[1]))
    for (_, end, _), (start, _, _) in zip(ordered, ordered[1:]):
        if start < end:
            raise ValueError("overlapping replacements")
    out = []
    cursor = 0
    for start, end, new in ordered:
        out.append(source[cursor:start])
        out.append(new)
        cursor = end
    out.append(source[cursor:])
    return b"".join(out)


def rewrite_down_revision(
    source: bytes,
    spans: Mapping[str, Span],
    old_down: Sequence[str],
    new_down: Sequence[str],
    *,
    path: str = "",
) -> bytes:
    """``source`` re-pointed from ``old_down`` to ``new_down``.

    Checks first that the bytes under the ``down_revision`` span still say
    ``old_down`` (the spans belong to these bytes); refuses otherwise.
    """
    where = path or "the revision file"
    span = spans.get("down_revision")
    if span is None:
        raise FixRefused(f"{where} has no down_revision assignment to re-point")
    literal = span_bytes(source, span)
    if literal_ids(literal) != tuple(old_down):
        raise FixRefused(
            f"{where}: down_revision is not where revgraph read it "
            f"(expected {tuple(old_down)!r} at byte {span.start}); re-run the fix"
        )
    quote = literal_quote(literal) or prevailing_quote(source, spans)
    value = _ids_replaced_in_place(literal, old_down, new_down)
    if value is None:
        value = render_down_revision(new_down, quote=quote, like=literal)
    replacements = [(span.start, span.end, value)]
    revises = spans.get("revises_line")
    if revises is not None:
        replacements.append(_revises_replacement(source, revises, old_down, new_down))
    return replace_spans(source, replacements)


# A one-line string literal without escapes: its prefix, quotes (three of them
# too, tried first) and content.
_PLAIN_STRING = re.compile(rb"([rRuU]?)('''|" + b'"""' + rb"""|'|")([^'"\\\r\n]*)\2""")


def _ids_replaced_in_place(literal: bytes, old_down: Sequence[str], new_down: Sequence[str]) -> bytes | None:
    """``literal`` with each old id's text swapped for the new one, all else kept; None: cannot.

    Keeps the author's layout (spaces, a trailing comma, a tuple over several
    lines, a ``r''`` prefix): only the ids change. Only when the literal's
    strings are exactly the old ids, in order, and the new ids are as many and
    need no escaping.
    """
    if len(old_down) != len(new_down) or not old_down:
        return None
    found = list(_PLAIN_STRING.finditer(literal))
    try:
        if [m.group(3).decode("ascii") for m in found] != list(old_down):
            return None  # escapes, a quote in a comment, another spelling: render anew
        new_bytes = [new.encode("ascii") for new in new_down]
    except UnicodeError:
        return None
    if any(m.group(2) in new for m, new in zip(found, new_bytes)):
        return None
    for m, new in reversed(list(zip(found, new_bytes))):
        literal = literal[: m.start(3)] + new + literal[m.end(3) :]
    return literal


def _revises_replacement(
    source: bytes, span: Span, old_down: Sequence[str], new_down: Sequence[str]
) -> tuple[int, int, bytes]:
    start, end = span.start, span.end
    # The newline is not part of the value, whatever a parser's idea of a CRLF line end.
    while end > start and source[end - 1 : end] in (b"\r", b"\n"):
        end -= 1
    value = source[start:end]
    # Swapped in place only when the line lists as many entries as there were parents
    # (a note after an id stays): one that names others too (Revises: b, a for a
    # down_revision of b) is written anew, not left wrong with one id swapped.
    # (A comma inside a note in brackets, "a1 (users, roles)", separates no entries.)
    entries = [part for part in re.sub(rb"\([^()]*\)", b"", value).split(b",") if part.strip()]
    swapped = _revises_swapped(value, old_down, new_down) if len(entries) == len(old_down) else None
    if swapped is not None:
        return (start, end, swapped)
    value = render_revises(new_down, like=source[start:end])
    if start == end and value and source[start - 1 : start] == b":":
        value = b" " + value  # "Revises:" with nothing after it
    return (start, end, value)


def _revises_swapped(value: bytes, old_down: Sequence[str], new_down: Sequence[str]) -> bytes | None:
    """``value`` with each old id swapped for its new one and every other byte kept
    (a note after the ids, trailing spaces, the author's separators); None when the
    old ids are not there, in order, each once, or the number of parents changes."""
    if len(old_down) != len(new_down) or not old_down:
        return None
    try:
        olds = [old.encode("ascii") for old in old_down]
        news = [new.encode("ascii") for new in new_down]
    except UnicodeError:
        return None
    places = []
    for old in olds:
        hits = list(re.finditer(rb"(?<![\w.-])" + re.escape(old) + rb"(?![\w.-])", value))
        if len(hits) != 1 or (places and hits[0].start() < places[-1][1]):
            return None
        places.append(hits[0].span())
    for (begin, finish), new in reversed(list(zip(places, news))):
        value = value[:begin] + new + value[finish:]
    return value
