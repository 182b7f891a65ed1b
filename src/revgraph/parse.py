"""Source bytes -> ``Revision`` | ``ParseProblem``, read statically.

Never imports, executes or evaluates the file, and never raises for any input.

Three readers, tried in this order, each answering only when it is sure:

* the **template reader** (``_read_template``): one regex match over the
  header of a file shaped like alembic's ``script.py.mako`` (docstring,
  imports, the four assignments on consecutive lines), which builds the
  ``Revision`` directly. It answers for nearly every generated file at a
  fraction of the cost of the others; anything else (the names mentioned
  again below the header or bound by an import, escapes, lone ``\\r``
  newlines, an exotic encoding, a problem ``_prepare`` would report) goes on.
* the **fast path** (``_read_fast``): a byte-level regex scan for the module
  docstring and the four column-0 assignments with simple one-literal values.
  It gives up on anything odd (a value that is not a plain string / tuple /
  list / ``None``, a duplicate assignment, the names used anywhere else
  outside comments, the words ``exec``, ``eval``, ``globals`` or ``vars``
  (which can bind them without naming them), a triple-quoted string or an
  open bracket before an assignment, lone ``\\r`` newlines, an exotic
  encoding), and then
* the **ast path** (``_read_ast``) reads the file with ``ast.parse`` and maps
  node positions (UTF-8 columns of the decoded line) back to byte offsets.
  It is the reference: tests compare the other two with it on generated files.

The fast readers do not check the syntax of the rest of the file (that would
cost an ``ast.parse``, ~20x the whole fast path): a file whose header reads
cleanly is a ``Revision`` even if, say, ``upgrade()`` has a syntax error.

The fast path and the ast path produce the same intermediate ``_Header`` and
feed ``_to_revision``, which applies alembic's rules (``to_tuple`` for
``down_revision`` / ``branch_labels`` / ``depends_on``,
``_revision_illegal_chars``, the legacy ``<hex>.py`` file name).

``Revision.touches`` (what ``upgrade()`` touches, for RG301) is not read here:
``upgrade_touches`` reads it on demand for the few revisions RG301 compares.
"""

from __future__ import annotations

import ast
import codecs
import dataclasses
import hashlib
import itertools
import re
import sys
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

from revgraph.model import PackedSpans, ParseProblem, Revision, Span
from revgraph.parser_version import PARSER_VERSION  # noqa: F401 - re-exported: the reader's version

KEYS = ("revision", "down_revision", "branch_labels", "depends_on")
_ILLEGAL_ID_CHARS = frozenset("@-+:")  # alembic.script.revision._revision_illegal_chars
# Names alembic's RevisionMap resolves as symbols before it looks at ids: a
# database stamped "base" reads as empty (and `alembic heads` fails while it is
# a head), one stamped "head" or "heads" as being at the current head, so later
# revisions are silently skipped.
_RESERVED_IDS = frozenset({"base", "head", "heads"})
_LEGACY_NAME = re.compile(r"([a-f0-9]+)\.py$")  # alembic.script.base._legacy_rev (re.match)
_MAX_BYTES = 8 * 1024 * 1024  # a revision file is source code, not a data dump
_SEQ_RULE = "must be a string, a tuple or list of strings, or None"
_STATIC = "revgraph reads revision files statically and never runs them"

# Codecs in which every byte < 0x80 is the ASCII character and every character
# is one byte: byte-level regexes are exact there. Other cookies take the ast path.
_SINGLE_BYTE_CODECS = frozenset({"utf-8", "ascii", "latin-1", "iso8859-1", "iso8859-15", "cp1252"})


class _Source(NamedTuple):
    """A decoded file: ``text`` is ``data`` after the BOM, decoded with ``encoding``."""

    data: bytes
    text: str
    encoding: str
    bom: int  # 3 when the file starts with a UTF-8 BOM, else 0


class _Assignment(NamedTuple):
    value: object  # None, str, tuple of constants (types checked later)
    span: Span  # the value literal
    line: int  # the statement's line


class _Docstring(NamedTuple):
    value: str
    span: Span


class _Header(NamedTuple):
    assignments: Mapping[str, _Assignment]
    docstring: _Docstring | None


# NamedTuple's generated __new__ is Python code; on the fast path, where every
# microsecond is paid 20,000 times, records are built through tuple.__new__.
_build = tuple.__new__


# ====================================================================== API
def parse_revision(data: bytes, path: str, blob_id: str | None = None) -> Revision | ParseProblem:
    """Read one revision file statically: the template reader, the fast path, ``ast`` when unsure.

    ``touches`` is left empty: ``upgrade_touches`` reads it when RG301 needs it.
    """
    try:
        if type(data) is bytes:  # bytearray / memoryview take the general way
            revision = _read_template(data, path, blob_id)
            if revision is not None:
                return revision
        src = _prepare(data, path, blob_id)
        if isinstance(src, ParseProblem):
            return src
        header = _read_fast(src)
        if header is None:
            header = _read_ast(src, path, blob_id)
            if isinstance(header, ParseProblem):
                return header
        return _to_revision(src, header, path, blob_id)
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not stop a doctor run over 20k files
        return _internal_error(path, blob_id, exc)


def parse_strict(data: bytes, path: str, blob_id: str | None = None) -> Revision | ParseProblem:
    """Read the whole file with ``ast``: also catches syntax errors below the header.

    About 5x the fast path's cost, so callers use it only for the few files a
    branch adds (``check`` runs it on new revisions), never on whole histories.
    """
    try:
        return _parse_ast(data, path, blob_id)
    except Exception as exc:  # noqa: BLE001 - the reader is total
        return _internal_error(path, blob_id, exc)


def syntax_problem(data: bytes, path: str, blob_id: str | None = None) -> ParseProblem | None:
    """``parse_strict``'s problem for a file ``parse_revision`` read as a revision, else None.

    Such a file's header already reads the same by ast (the readers agree on
    every file the fast ones answer), so only the rest of the file is in
    doubt: ``ast.parse`` alone settles that, at a third of ``parse_strict``'s
    cost. A file it refuses gets ``parse_strict``'s own message.
    """
    try:
        src = _prepare(data, path, blob_id)
        if isinstance(src, _Source):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # as _read_ast
                ast.parse(src.text, filename=path or "<revision>")
            return None
    except Exception:  # noqa: BLE001, S110 - the full reader below words the problem
        pass
    result = parse_strict(data, path, blob_id)
    return result if isinstance(result, ParseProblem) else None


def fingerprint(data: bytes) -> str:
    """A hash of what the file does when run, blind to how it is written (RG203).

    Two files with the same fingerprint differ at most in comments, layout
    (spacing, indentation width, newlines, line wrapping, quote style: what a
    formatter such as black or ruff changes), docstrings, the annotations of
    module-level assignments, and how the four header values are spelled
    (``'a'``, ``('a',)`` and ``['a']`` are one value; a merge's parents are a
    set). A file ``ast`` cannot parse is compared by its tokens instead.
    Never raises: anything unreadable hashes its raw bytes.
    """
    try:
        src = _decode(data, "", None)
        if isinstance(src, _Source) and b"\x00" not in data:
            shape = _code_shape(src.text)
            if shape is None:
                shape = "tokens\0" + _token_stream(src.text)
            return hashlib.sha256(shape.encode("utf-8", "surrogatepass")).hexdigest()
    except Exception:  # noqa: BLE001, S110 - never raise: an odd file is simply "different"
        pass
    return hashlib.sha256(data).hexdigest()


def _code_shape(text: str) -> str | None:
    """``ast.dump`` of the module without what cannot change what it does; None when unparsable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                body = node.body
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    if isinstance(body[0].value.value, str):  # a docstring: runs nothing
                        node.body = body[1:] or [ast.Pass()]
        tree.body = [_plain_header(stmt) for stmt in tree.body]
        return "ast\0" + ast.dump(tree, include_attributes=False)
    except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError):
        return None


def _plain_header(stmt: ast.stmt) -> ast.stmt:
    """A module-level ``name: T = value`` as ``name = value``; a header key's literal as its set of ids."""
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        stmt = ast.Assign(targets=[stmt.target], value=stmt.value)
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        if stmt.targets[0].id in KEYS:
            try:
                value = ast.literal_eval(stmt.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return stmt
            if isinstance(value, list):
                value = tuple(value)
            ids = _as_tuple(value)
            if ids == (None,):
                ids = () if stmt.targets[0].id != "branch_labels" else None  # as _to_revision reads it
            if ids is not None:
                return ast.Assign(targets=[stmt.targets[0]], value=ast.Constant(tuple(sorted(set(ids)))))
    return stmt


def scan_touches(text: str) -> tuple[str, ...]:
    """What ``op.*`` calls with literal arguments in ``text`` touch, sorted and deduped.

    ``table:t``, ``column:t.c``, ``index:ix``, ``constraint:name``; raw SQL in
    ``*.execute("...")`` contributes the tables after INSERT INTO, UPDATE,
    DELETE FROM, ALTER/CREATE/DROP TABLE and TRUNCATE.
    """
    found: set[str] = set()
    batches = _batch_aliases(text)
    calls = _calls(text)
    for index, call in enumerate(calls):
        segment_end = calls[index + 1].start if index + 1 < len(calls) else len(text)
        _touches_of_call(text, call, segment_end, batches, found)
    return tuple(sorted(found))


def upgrade_touches(data: bytes) -> tuple[str, ...]:
    """What the ``upgrade()`` functions of a revision file touch (``scan_touches`` of their text).

    Not part of ``parse_revision``'s result: only RG301 needs it, for the few
    revisions a branch adds. Decodes like the reader (BOM, coding cookie);
    never raises (an undecodable file is read with replacement characters).
    """
    try:
        data = bytes(data)
        src = _decode(data, "", None)
        text = src.text if isinstance(src, _Source) else data.decode("utf-8", "replace")
        return scan_touches(_upgrade_bodies(text))
    except Exception:  # noqa: BLE001 - RG301 is a warning; an odd file touches nothing known
        return ()


def _parse_fast(data: bytes, path: str, blob_id: str | None = None) -> Revision | ParseProblem | None:
    """The fast path alone; ``None`` when it is unsure (tests compare it with ``_parse_ast``)."""
    src = _prepare(data, path, blob_id)
    if isinstance(src, ParseProblem):
        return src
    header = _read_fast(src)
    return None if header is None else _to_revision(src, header, path, blob_id)


def _parse_ast(data: bytes, path: str, blob_id: str | None = None) -> Revision | ParseProblem:
    """The ast path alone."""
    src = _prepare(data, path, blob_id)
    if isinstance(src, ParseProblem):
        return src
    header = _read_ast(src, path, blob_id)
    if isinstance(header, ParseProblem):
        return header
    return _to_revision(src, header, path, blob_id)


def _internal_error(path: str, blob_id: str | None, exc: BaseException) -> ParseProblem:
    return ParseProblem(
        path, 1, f"internal error in revgraph's reader ({type(exc).__name__}: {exc}); please report", blob_id
    )


# ================================================================ bytes -> text
_CONFLICT_MARKER = re.compile(rb"^(?:<<<<<<<|>>>>>>>)(?:[ \t]|\r?$)", re.MULTILINE)
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:#.*)?$")
_NEWLINE = re.compile(rb"\r\n|\r|\n")
_NEWLINE_TEXT = re.compile(r"\r\n|\r|\n")


def _prepare(data: bytes, path: str, blob_id: str | None) -> _Source | ParseProblem:
    """Refuse what is not Python source (empty, binary, conflicted, huge, undecodable)."""
    data = bytes(data)
    if not data.strip() or data.strip() == codecs.BOM_UTF8:
        return ParseProblem(path, 1, "empty file", blob_id)
    nul = data.find(b"\x00")
    if nul >= 0:
        return ParseProblem(path, _line_of(data, nul), f"binary file (NUL byte at offset {nul})", blob_id)
    if len(data) > _MAX_BYTES:
        return ParseProblem(path, 1, f"file too large for a revision ({len(data)} bytes)", blob_id)
    if b"<<<<<<<" in data or b">>>>>>>" in data:
        marker = _CONFLICT_MARKER.search(data)
        if marker:
            line = _line_of(data, marker.start())
            return ParseProblem(
                path,
                line,
                f"unresolved merge conflict markers (line {line}); resolve the conflict first",
                blob_id,
            )
    return _decode(data, path, blob_id)


def _decode(data: bytes, path: str, blob_id: str | None) -> _Source | ParseProblem:
    """Decode as Python would: UTF-8 with optional BOM, or the PEP 263 coding cookie."""
    bom = 3 if data.startswith(codecs.BOM_UTF8) else 0
    encoding = "utf-8"
    cookie = _coding_cookie(data, bom)
    if cookie is not None:
        name, line = cookie
        encoding_or_problem = _cookie_encoding(name, bool(bom))
        if encoding_or_problem.startswith("!"):
            return ParseProblem(path, line, encoding_or_problem[1:], blob_id)
        encoding = encoding_or_problem
    try:
        text = data[bom:].decode(encoding)
    except UnicodeDecodeError as exc:
        where = bom + exc.start
        label = "UTF-8" if encoding == "utf-8" else encoding
        reason = f"not valid {label} (byte 0x{data[where]:02x} at line {_line_of(data, where)})"
        if cookie is None:
            # Typically alembic.ini's output_encoding wrote it: Python reads a file
            # without a coding line as UTF-8, so alembic cannot import it either.
            reason += (
                "; Python reads a file without a `# -*- coding: ... -*-` line as UTF-8, "
                "so alembic cannot load it either: save it as UTF-8 or add that line"
            )
        return ParseProblem(path, _line_of(data, where), reason, blob_id)
    return _Source(data, text, encoding, bom)


def _coding_cookie(data: bytes, bom: int) -> tuple[str, int] | None:
    """PEP 263: a ``coding[:=]name`` comment on line 1, or on line 2 after a comment/blank line."""
    # Lines 1 and 2 whole, however long: Python's tokenizer reads them so (a
    # cookie after byte 400 of a long first comment line still counts).
    newlines = list(itertools.islice(_NEWLINE.finditer(data, bom), 2))
    head = data[bom : newlines[1].end() if len(newlines) == 2 else len(data)]
    if b"coding" not in head:
        return None
    lines = _NEWLINE.split(head, 2)[:2]
    for number, line in enumerate(lines, start=1):
        match = _COOKIE.match(line)
        if match:
            return match.group(1).decode("ascii", "replace"), number
        if not _BLANK_OR_COMMENT.match(line):
            return None
    return None


def _cookie_encoding(name: str, has_bom: bool) -> str:
    """A codec name, or ``"!reason"`` when Python itself would refuse the cookie."""
    normal = _normal_cookie_name(name)
    if has_bom and normal != "utf-8":
        # (`utf8` too: the tokenizer compares the normalised spelling, not the codec)
        return f"!UTF-8 BOM but the coding cookie says {name!r}"
    try:
        info = codecs.lookup(normal)
    except LookupError:
        return f"!unknown encoding {name!r} in the coding cookie"
    encoding = "utf-8" if info.name in ("utf-8", "utf-8-sig") else info.name
    if not getattr(info, "_is_text_encoding", True) or not _ascii_compatible(encoding):
        return f"!coding cookie names {name!r}, which cannot encode Python source"
    return encoding


def _normal_cookie_name(name: str) -> str:
    """The tokenizer's spelling of a cookie's encoding (``get_normal_name`` in CPython):
    ``utf-8-foo`` is UTF-8 and ``iso-latin-1-x`` Latin-1, whatever codecs makes of them."""
    spelled = name[:12].lower().replace("_", "-")
    if spelled == "utf-8" or spelled.startswith("utf-8-"):
        return "utf-8"
    if spelled in ("latin-1", "iso-8859-1", "iso-latin-1") or spelled.startswith(
        ("latin-1-", "iso-8859-1-", "iso-latin-1-")
    ):
        return "iso-8859-1"
    return name


def _ascii_compatible(encoding: str) -> bool:
    probe = bytes(range(1, 128))
    try:
        return probe.decode(encoding) == probe.decode("ascii")
    except Exception:  # noqa: BLE001 - a codec that cannot even decode ASCII
        return False


def _line_of(data: bytes, pos: int) -> int:
    """1-based line of byte ``pos``, counting ``\\r\\n``, ``\\r`` and ``\\n`` as Python does."""
    line = data.count(b"\n", 0, pos) + 1
    if b"\r" in data:
        line += data.count(b"\r", 0, pos) - data.count(b"\r\n", 0, pos)
    return line


# ================================================================ fast path
_STR = rb"""[rRuU]?(?:'[^'\\\r\n]*'|"[^"\\\r\n]*")"""
_WS = rb"[ \t\r\n]*"  # inside brackets newlines are plain whitespace
# Each whitespace run has exactly one place to go (no two _WS touch): linear, not quadratic.
_ITEMS = rb"(?:" + _STR + rb"(?:" + _WS + rb"," + _WS + _STR + rb")*" + _WS + rb"(?:," + _WS + rb")?)?"
_VALUE = rb"None|" + _STR + rb"|\(" + _WS + _ITEMS + rb"\)|\[" + _WS + _ITEMS + rb"\]"
# An annotation's brackets, nested once (``Union[str, Sequence[str], None]``);
# deeper ones go to the ast reader. Their content holds no bracket, so each
# bracket pair can be matched one way only: with ``]`` and ``|`` in one class,
# ``list[str] | list[str] | ...`` could be split in exponentially many ways,
# all tried when the value after ``=`` then fails (seconds at 22 terms).
_ANN_INNER = rb"[\w.,| '\"]*"
_ANN_ATOM = rb"[A-Za-z_][\w.]*(?:\[" + _ANN_INNER + rb"(?:\[" + _ANN_INNER + rb"\]" + _ANN_INNER + rb")*\])?"
_ANNOTATION = _ANN_ATOM + rb"(?:[ \t]*\|[ \t]*" + _ANN_ATOM + rb")*|'[^'\\\r\n]*'|\"[^\"\\\r\n]*\""
_FAST_ASSIGN = re.compile(
    rb"(?P<name>revision|down_revision|branch_labels|depends_on)[ \t]*"
    rb"(?::[ \t]*(?P<ann>" + _ANNOTATION + rb")[ \t]*)?"
    rb"=[ \t]*(?P<value>" + _VALUE + rb")"
    rb"[ \t]*(?:\#[^\r\n]*)?(?:\r?\n|\Z)"
)
_ITEM = re.compile(_STR)
_OPENING_BRACKETS = frozenset(b"([")
_QUOTE_BYTES = frozenset(b"'\"")
_KEY_NAMES = {key.encode(): key for key in KEYS}
_KEY_NEEDLES = (b"revision", b"branch_labels", b"depends_on")  # b"revision" also finds down_revision
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_LEADING_LINES = re.compile(rb"(?:[ \t\f]*(?:#[^\r\n]*)?\r?\n)*")
_FAST_DOC_OPEN = re.compile(rb"[rRuU]?(\"\"\"|''')")
_STRING_START = re.compile(rb"""[rRuUbBfF]{0,2}['"]""")
_REST_OF_LINE = re.compile(rb"[ \t]*(?:#[^\r\n]*)?(?:\r?\n|\Z)")
_STRINGS_AND_COMMENTS = re.compile(
    rb"""#[^\r\n]*|[rRuUbBfF]{0,2}(?:'[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*'|"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*")"""
)
_CONTINUATION = re.compile(rb"\\\r?\n")
_QUOTES = re.compile(rb"""['"]""")


class _Unsure(Exception):
    """The fast path cannot be sure; the ast path decides."""


def _read_fast(src: _Source) -> _Header | None:
    if src.encoding not in _SINGLE_BYTE_CODECS:
        return None
    data = src.data
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # lone CR newlines: rare enough to leave to ast
    if _maybe_dynamic(src.text) or _may_supply_names(src.text):
        return None  # exec(), globals(), `import *` ... may bind a name without spelling it out
    try:
        docstring, code_start = _fast_docstring(src)
        if not src.text.isascii() and _disguised(src.data[code_start:], src.encoding):
            return None  # `ｅｘｅｃ(...)`, `down_revisｉon = ...`: names the byte scan does not see
        assignments = _fast_assignments(src, code_start)
    except _Unsure:
        return None
    if "revision" not in assignments or "down_revision" not in assignments:
        return None  # a legacy file or a broken one: let ast find the syntax error if any
    return _Header(assignments, docstring)


def _fast_docstring(src: _Source) -> tuple[_Docstring | None, int]:
    """The module docstring when it is a plain triple-quoted literal; where code starts."""
    data = src.data
    start = _LEADING_LINES.match(data, src.bom).end()
    opening = _FAST_DOC_OPEN.match(data, start)
    if opening is None:
        if _STRING_START.match(data, start) or data[start : start + 1] in (b" ", b"\t", b"\f", b"\\"):
            raise _Unsure  # a single-quoted docstring, bytes, an indent, a continuation
        return None, start
    quote = opening.group(1)
    content_start = opening.end()
    close = data.find(quote, content_start)
    if close < 0 or b"\\" in data[content_start:close]:
        raise _Unsure
    end = close + len(quote)
    rest = _REST_OF_LINE.match(data, end)
    if rest is None:
        raise _Unsure  # `"""...""".strip()`, implicit concatenation, `;`
    value = data[content_start:close].decode(src.encoding).replace("\r\n", "\n")
    return _Docstring(value, Span(start, end, data.count(b"\n", 0, start) + 1)), rest.end()


def _fast_assignments(src: _Source, code_start: int) -> dict[str, _Assignment]:
    data = src.data
    found: dict[str, _Assignment] = {}
    checked_to = code_start  # bytes before this are known to be at bracket depth 0
    skip_to = code_start
    for start in _key_hits(data, code_start):
        if start < checked_to or start < skip_to:
            continue  # inside an assignment already read, or later in a comment already seen
        if start == src.bom or data[start - 1] == 10:  # column 0 (10 is "\n")
            _require_top_level(data, checked_to, start)
            match = _FAST_ASSIGN.match(data, start)
            name = _KEY_NAMES[match.group("name")] if match else None
            if name is None or name in found:
                raise _Unsure  # not a plain literal, or assigned twice
            found[name] = _fast_value(src, match)
            checked_to = match.end()
        else:
            _require_comment(data, start)
            skip_to = _find_or_end(data, b"\n", start)
    return found


def _find_or_end(data: bytes, needle: bytes, start: int) -> int:
    found = data.find(needle, start)
    return len(data) if found < 0 else found


def _key_hits(data: bytes, start: int) -> list[int]:
    """Sorted offsets of the four names as whole words (``bytes.find`` beats a regex scan)."""
    hits = []
    for needle in _KEY_NEEDLES:
        pos = data.find(needle, start)
        while pos >= 0:
            end = pos + len(needle)
            begin = pos - 5 if needle == b"revision" and data[pos - 5 : pos] == b"down_" else pos
            if (begin == 0 or data[begin - 1] not in _WORD_BYTES) and (
                end == len(data) or data[end] not in _WORD_BYTES
            ):
                hits.append(begin)
            pos = data.find(needle, end)
    hits.sort()
    return hits


def _require_top_level(data: bytes, start: int, end: int) -> None:
    """Column 0 is a statement only outside brackets and multi-line strings."""
    if start == end:
        return
    region = data[start:end]
    if b'"""' in region or b"'''" in region or (b"\\" in region and _CONTINUATION.search(region)):
        raise _Unsure
    if b"(" not in region and b"[" not in region and b"{" not in region:
        return
    code = _STRINGS_AND_COMMENTS.sub(b"", region)
    opens = code.count(b"(") + code.count(b"[") + code.count(b"{")
    if opens and opens != code.count(b")") + code.count(b"]") + code.count(b"}"):
        raise _Unsure


def _require_comment(data: bytes, pos: int) -> None:
    """A key name not at column 0 is harmless only after a ``#`` with no quote on its line.

    Any quote before the name could end a string that held the ``#``, making
    what follows code again: the ast path decides those.
    """
    line_start = data.rfind(b"\n", 0, pos) + 1
    if data.find(b"#", line_start, pos) < 0 or _QUOTES.search(data, line_start, pos):
        raise _Unsure


def _fast_value(src: _Source, match: re.Match) -> _Assignment:
    raw = match.group("value")
    start, end = match.span("value")
    line = src.data.count(b"\n", 0, match.start()) + 1  # no lone CR on the fast path
    value: object
    span_line = line
    if raw == b"None":
        value = None
    elif raw[0] in _OPENING_BRACKETS:
        items = list(_ITEM.finditer(raw))
        value = tuple(_string_content(item.group(), src.encoding) for item in items)
        if raw[0] == 40 and len(items) == 1 and b"," not in raw[items[0].end() :]:  # 40 is "("
            # ("abc") is a parenthesised string, and ast spans the string alone (on its own line)
            value = value[0]
            span_line += raw.count(b"\n", 0, items[0].start())
            start, end = start + items[0].start(), start + items[0].end()
    else:
        value = _string_content(raw, src.encoding)
    return _build(_Assignment, (value, Span(start, end, span_line), line))


# ============================================================ template path
# The shape of every alembic script.py.mako: blank or comment lines, a
# triple-quoted docstring, blank / comment / one-line import lines, then the
# four assignments on consecutive lines in template order, each a one-literal
# value. One match reads that header. Everything it consumed is plain top-level
# code, so the header is final unless a name occurs outside comments there (an
# import could bind it) or anywhere in the rest of the file (a later assignment
# wins). Then, as for anything the pattern does not fit, the general readers
# decide; they also report every problem.
#
# Costs, measured in instructions on template files: a character class of two
# or more characters costs ~35 per character inside a repeat, a single negated
# character ~5, so long runs use [^\n] / [^"] and what they may not contain
# (backslashes, triple quotes, lone CRs) is checked afterwards with `in`.
# Possessive repeats (Python 3.11+) skip saving backtracking points; each is
# followed by a character it cannot match, so plain greedy repeats (3.10)
# match exactly the same.
_GAP_LINES = rb"(?:[ \t\f]*+(?:\#[^\n]*+)?+\r?\n)*+"
_HEAD_LINES = (
    rb"(?:(?:[ \t\f]*+(?:\#[^\n]*+)?+|(?:import|from)[ \t][\w. \t,]*+(?:\#[^\n]*+)?+)\r?\n)*+"
)
# alembic's docstring layout, whose three fields the match reads itself; any
# other layout leaves the groups empty and `_DOC_FIELD` reads the fields.
_DOC_LAYOUT = (
    rb"[^\n]*+\n\r?\n"
    rb"Revision ID:[ \t]*+(?P<rid>[^\n]*+)\n"
    rb"Revises:[ \t]*+(?P<revises>[^\n]*+)\n"
    rb"Create Date:[ \t]*+(?P<date>[^\n]*+)\n"
)
_T_STR = rb"""[rRuU]?(?:'[^'\n]*+'|"[^"\n]*+")"""
_T_WS = rb"[ \t\r\n]*+"
_T_ITEMS = (
    rb"(?:" + _T_STR + rb"(?:" + _T_WS + rb"," + _T_WS + _T_STR + rb")*+"
    + _T_WS + rb"(?:," + _T_WS + rb")?+)?+"
)
_T_VALUE = rb"None|" + _T_STR + rb"|\(" + _T_WS + _T_ITEMS + rb"\)|\[" + _T_WS + _T_ITEMS + rb"\]"
# The typed template's annotations first: a literal is cheaper than the general form.
_T_ANNOTATION = rb"(?:str|Union\[str, Sequence\[str\], None\]|" + _ANNOTATION + rb")"


def _template_assignment(name: bytes, group: bytes, value: bytes) -> bytes:
    return (
        name + rb"[ \t]*+(?::[ \t]*+" + _T_ANNOTATION + rb"[ \t]*+)?"
        rb"=[ \t]*+(?P<" + group + rb">" + value + rb")"
        rb"[ \t]*+(?:\#[^\n]*+)?+(?:\r?\n|\Z)"
    )


_TEMPLATE_PATTERN = (
    _GAP_LINES
    + rb"(?P<doc>[rRuU]?(?:\"\"\"(?:" + _DOC_LAYOUT + rb")?[^\"]*+(?:\"(?!\"\")[^\"]*+)*+\"\"\""
    rb"|'''[^']*+(?:'(?!'')[^']*+)*+'''))[ \t]*+(?:\#[^\n]*+)?+\r?\n"
    + _HEAD_LINES
    + rb"(?P<code>)"
    + _template_assignment(b"revision", b"rev", _T_STR)
    + _template_assignment(b"down_revision", b"down", _T_VALUE)
    + rb"(?:" + _template_assignment(b"branch_labels", b"labels", _T_VALUE) + rb")?"
    + rb"(?:" + _template_assignment(b"depends_on", b"deps", _T_VALUE) + rb")?"
)
_POSSESSIVE = sys.version_info >= (3, 11)
_TEMPLATE = re.compile(
    _TEMPLATE_PATTERN if _POSSESSIVE else _TEMPLATE_PATTERN.replace(b"*+", b"*").replace(b"?+", b"?")
)
_T_GROUPS = ("doc", "rid", "revises", "date", "code", "rev", "down", "labels", "deps")
assert tuple(sorted(_TEMPLATE.groupindex, key=_TEMPLATE.groupindex.get)) == _T_GROUPS
_ALEMBIC_COMMENT = "# revision identifiers, used by Alembic."
_BOM = codecs.BOM_UTF8
_NO_IGNORES: frozenset[str] = frozenset()


def _read_template(data: bytes, path: str, blob_id: str | None) -> Revision | None:
    """A template-shaped file read with one match; ``None`` when the general readers must decide.

    When it answers, the answer is what ``_prepare``, ``_read_ast`` and
    ``_to_revision`` give for the same bytes (property tests compare them).
    """
    if len(data) > _MAX_BYTES:
        return None  # refused by _prepare, before any copy of it is made
    bom = 3 if data[:3] == _BOM else 0
    match = _TEMPLATE.match(data, bom)
    if match is None:
        return None
    # One character per byte, so offsets agree; `in` on str is several times
    # cheaper than on bytes (which first tries the needle as an int).
    text = data.decode("latin-1")
    _, (doc_start, doc_end), rid, revises, date, (code, _), *values = match.regs
    end = match.end()
    rest = text[end:]
    if "revision" in rest or "branch_labels" in rest or "depends_on" in rest:
        return None  # a later line may assign a name again, or only mention it in a comment
    below = text[doc_end:]  # the imports too: `from builtins import exec as run`
    if _maybe_dynamic(below) or _may_supply_names(below):
        return None  # exec(), globals(), `import *` ... may bind a name without spelling it out
    head = text[doc_end:code]
    names_in_head = "revision" in head or "branch_labels" in head or "depends_on" in head
    if names_in_head and not _names_in_comments_only(head):
        return None  # an import may bind one
    if "\\" in text[:end] or "\x00" in text or "<<<<<<<" in text or ">>>>>>>" in text:
        return None  # escapes in the header; _prepare's problems (or a false alarm it sorts out)
    quote = 4 if text[doc_start] not in "\"'" else 3
    content_start, content_end = doc_start + quote, doc_end - 3
    if '"""' in text[content_start:content_end]:
        return None  # the layout's lines ran past the closing quotes
    crlf = "\r" in text
    if crlf and text.count("\r") != text.count("\r\n"):
        return None  # lone CR newlines
    encoding = "utf-8"
    doc_line = 1
    if doc_start > bom:  # a coding cookie can only be on a line before the docstring
        cookie = _coding_cookie(data, bom)
        if cookie is not None:
            encoding = _cookie_encoding(cookie[0], bool(bom))
            if encoding not in _SINGLE_BYTE_CODECS:
                return None  # a problem, or a codec in which bytes are not characters
        doc_line += text.count("\n", 0, doc_start)
    ascii_only = text.isascii()  # O(1): decoding recorded it
    if not ascii_only:
        try:
            data[bom:].decode(encoding)
        except UnicodeDecodeError:
            return None  # a problem naming the byte
        if _disguised(data[doc_end:], encoding):
            return None  # `down_revisｉon` below the docstring: a name the checks above did not see

    # Spans as (key, start, end, line) in the order the ast reader finds them;
    # packed (PackedSpans) unless the docstring needs the general reader.
    packed: list[tuple[str, int, int, int]] = []
    line = doc_line + text.count("\n", doc_start, code)  # the `revision = ...` line
    parsed: list[tuple[str, ...]] = []
    for key, (start, stop) in zip(KEYS, values):
        if start < 0:
            parsed.append(())
            continue
        first = data[start]
        if first == 78:  # "N": None
            parsed.append(())
            packed.append((key, start, stop, line))
        elif first in _OPENING_BRACKETS:
            value, where = _bracketed_value(data, start, stop, line, encoding)
            parsed.append(value)
            packed.append((key, *where))
            line += text.count("\n", start, stop)
        else:
            body = start + 1 if first in _QUOTE_BYTES else start + 2  # past a r/u prefix
            parsed.append((text[body : stop - 1] if ascii_only else data[body : stop - 1].decode(encoding),))
            packed.append((key, start, stop, line))
        line += 1
    rev_id = parsed[0][0]
    if not rev_id or not _ILLEGAL_ID_CHARS.isdisjoint(rev_id) or rev_id in _RESERVED_IDS:
        return None  # the problem comes from _revision_id

    doc_value = (
        text[content_start:content_end] if ascii_only else data[content_start:content_end].decode(encoding)
    )
    if crlf:
        doc_value = doc_value.replace("\r\n", "\n")
    packed.append(("docstring", doc_start, doc_end, doc_line))
    spans: Mapping[str, Span]
    if rid[0] >= 0:  # alembic's layout: the fields are on the docstring's 3rd to 5th lines
        rid_end, revises_end = rid[1], revises[1]
        if crlf:  # the groups run to the LF; the span ends before a CR
            rid_end -= data[rid_end - 1] == 13
            revises_end -= data[revises_end - 1] == 13
        packed.append(("revision_id_line", rid[0], rid_end, doc_line + 2))
        packed.append(("revises_line", revises[0], revises_end, doc_line + 3))
        spans = PackedSpans(tuple(packed))
        if ascii_only:
            doc_revision_id = text[rid[0] : rid_end].strip()
            doc_revises = text[revises[0] : revises_end].strip()
            create_date: str | None = text[date[0] : date[1]].strip()
        else:
            doc_revision_id = data[rid[0] : rid_end].decode(encoding).strip()
            doc_revises = data[revises[0] : revises_end].decode(encoding).strip()
            create_date = data[date[0] : date[1]].decode(encoding).strip()
    else:
        spans = {key: _span(start, end, at) for key, start, end, at in packed}
        doc = _Docstring(doc_value, spans["docstring"])
        fields = _doc_fields(_Source(data, "", encoding, bom), doc, spans)
        doc_revision_id = fields.get("revision_id_line")
        doc_revises = fields.get("revises_line")
        create_date = fields.get("create_date")
    if "revgraph" in text:
        ignores, ignore_lines = _ignores(text[bom:] if ascii_only else data[bom:].decode(encoding))
    else:
        ignores, ignore_lines = _NO_IGNORES, ()
    return _revision(
        rev_id,
        parsed[1],
        parsed[2],
        parsed[3],
        path,
        blob_id,
        _first_line(doc_value),
        create_date,
        doc_revision_id,
        doc_revises,
        spans,
        ignores,
        ignore_lines,
    )


def _names_in_comments_only(head: str) -> bool:
    """Whether the four names occur in ``head`` (whole lines) only on comment lines."""
    if _ALEMBIC_COMMENT in head:  # the template's own comment: skip the line loop
        head = head.replace(_ALEMBIC_COMMENT, "")
        if "revision" not in head and "branch_labels" not in head and "depends_on" not in head:
            return True
    for line in head.split("\n"):
        if ("revision" in line or "branch_labels" in line or "depends_on" in line) and not line.lstrip(
            " \t\f"
        ).startswith("#"):
            return False
    return True


def _bracketed_value(
    data: bytes, start: int, end: int, line: int, encoding: str
) -> tuple[tuple[str, ...], tuple[int, int, int]]:
    """A ``(...)`` / ``[...]`` value's strings, and the span ast gives it (start, end, line)."""
    raw = data[start:end]
    items = _ITEM.findall(raw)
    if raw[0] == 40 and len(items) == 1:  # 40 is "(": maybe ("abc"), a parenthesised string
        item = _ITEM.search(raw)
        if b"," not in raw[item.end() :]:  # ast spans the string alone, on its own line
            return (_string_content(items[0], encoding),), (
                start + item.start(), start + item.end(), line + raw.count(b"\n", 0, item.start())
            )  # fmt: skip
    return tuple([_string_content(item, encoding) for item in items]), (start, end, line)


def _string_content(literal: bytes, encoding: str) -> str:
    """The text of a one-line literal without backslashes: strip the prefix and quotes."""
    body = literal[1:-1] if literal[0] in _QUOTE_BYTES else literal[2:-1]
    return body.decode(encoding)


# A frozen dataclass's __init__ sets each field with object.__setattr__: for
# the eight objects of one template file that is a third of the whole read.
# These build the same objects (fields, equality, hash) by filling the instance
# dict, as sources/cache.py does for cached revisions; if the model ever gains
# slots, a __post_init__ or other fields, they fall back to the constructors.
_SPAN_FIELDS = ("start", "end", "line")
_REVISION_ARGS = (
    "id",
    "down_revisions",
    "branch_labels",
    "depends_on",
    "path",
    "blob_id",
    "message",
    "create_date",
    "doc_revision_id",
    "doc_revises",
    "spans",
    "ignores",
    "ignore_lines",
)
_REVISION_DEFAULTS = {"touches": ()}


def _plain_dataclass(cls: type, names: tuple[str, ...]) -> bool:
    return (
        dataclasses.is_dataclass(cls)
        and not hasattr(cls, "__slots__")
        and not hasattr(cls, "__post_init__")
        and tuple(f.name for f in dataclasses.fields(cls)) == names
    )


_FAST_OBJECTS = _plain_dataclass(Span, _SPAN_FIELDS) and _plain_dataclass(
    Revision, _REVISION_ARGS + tuple(_REVISION_DEFAULTS)
)
_new = object.__new__


def _span(start: int, end: int, line: int) -> Span:
    if not _FAST_OBJECTS:
        return Span(start, end, line)
    span = _new(Span)
    state = span.__dict__
    state["start"] = start
    state["end"] = end
    state["line"] = line
    return span


def _revision(*args: object) -> Revision:
    """``Revision(*args)`` with ``touches`` left empty."""
    if not _FAST_OBJECTS:
        return Revision(*args)
    revision = _new(Revision)
    state = revision.__dict__
    state.update(zip(_REVISION_ARGS, args))
    state.update(_REVISION_DEFAULTS)
    return revision


# ================================================================ ast path
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try) + tuple(
    getattr(ast, name) for name in ("TryStar", "Match") if hasattr(ast, name)
)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


class _NotStatic(Exception):
    """A key is bound by something other than a top-level literal assignment."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _read_ast(src: _Source, path: str, blob_id: str | None) -> _Header | ParseProblem:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. are not our business
            tree = ast.parse(src.text, filename=path or "<revision>")
    except SyntaxError as exc:
        return ParseProblem(path, exc.lineno or 1, f"syntax error: {exc.msg}", blob_id)
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return ParseProblem(path, 1, f"cannot be parsed as Python ({type(exc).__name__}: {exc})", blob_id)
    positions = _Positions(src)
    text = src.text
    names = text if text.isascii() else unicodedata.normalize("NFKC", text)  # as Python reads them
    dynamic = ":=" in text or "global" in text or "attr" in names or _maybe_dynamic(names)
    try:
        # A module __getattr__ is spelled out, or made by code the words of
        # `dynamic` announce (`setattr`, `globals()`, `sys.modules`).
        nodes = _top_level_bindings(tree, getattr_possible=dynamic or "__getattr__" in names)
        if "TYPE_CHECKING" in names or "__main__" in names:
            _refuse_rebound_guards(tree)  # what `if TYPE_CHECKING:` tests must be what it says
        if dynamic:
            _refuse_dynamic_bindings(tree, names)  # else nothing deeper can bind them
        assignments = {
            name: _Assignment(_literal(name, node, stmt), positions.span(node), stmt.lineno)
            for name, (node, stmt) in nodes.items()
        }
    except _NotStatic as exc:
        return ParseProblem(path, exc.line, exc.reason, blob_id)
    return _Header(assignments, _ast_docstring(tree, positions))


def _top_level_bindings(tree: ast.Module, *, getattr_possible: bool = True) -> dict[str, tuple[ast.expr, ast.stmt]]:
    """The last value assigned to each key at module level; raises ``_NotStatic``.

    One pass over the module's statements; what binds a key from deeper down
    (``:=``, ``global``, ``exec``, ``globals()``) is ``_refuse_dynamic_bindings``'s.
    ``getattr_possible``: False when the source cannot give the module a
    ``__getattr__`` (neither names it nor holds a word of the code that could
    make one): no search for it then.
    """
    found: dict[str, tuple[ast.expr, ast.stmt]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    if target.id in KEYS:
                        found[target.id] = (stmt.value, stmt)
                else:
                    _refuse(_target_names(target), stmt, "assigned by unpacking")
        elif isinstance(stmt, ast.AnnAssign):
            # An annotation without a value binds nothing, as in Python.
            if isinstance(stmt.target, ast.Name) and stmt.target.id in KEYS and stmt.value is not None:
                found[stmt.target.id] = (stmt.value, stmt)
        elif isinstance(stmt, ast.If) and _never_runs(stmt.test):
            _refuse_in_block(stmt, stmt.orelse)  # the body never runs when alembic imports the file
        elif isinstance(stmt, _COMPOUND):
            _refuse_in_block(stmt, [stmt])
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            _refuse(_statement_names(stmt), stmt, "imported, not assigned a literal")
        elif isinstance(stmt, ast.Delete):
            _refuse(_statement_names(stmt), stmt, "deleted (`del`)")
        else:
            _refuse(_statement_names(stmt), stmt, f"not a literal ({type(stmt).__name__})")
    _refuse_supplied_names(tree, found, getattr_possible)
    return found


# Packages that bind none of the four names: `from sqlalchemy import *` is common in old files.
_STAR_SAFE = ("sqlalchemy", "alembic")


def _refuse_supplied_names(
    tree: ast.Module, found: dict[str, tuple[ast.expr, ast.stmt]], getattr_possible: bool = True
) -> None:
    """``_NotStatic`` when a key may come from somewhere other than its literal.

    ``from x import *`` binds whatever ``x`` defines, so a key it may bind must
    be assigned after it; a module ``__getattr__`` (PEP 562) answers alembic's
    ``module.depends_on`` for a key the file never assigns.
    """
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and _never_runs(stmt.test):
            nodes: Iterable[ast.AST] = (n for top in stmt.orelse for n in (top, *_nested_nodes(top)))
        elif isinstance(stmt, _COMPOUND):
            nodes = _nested_nodes(stmt)
        else:
            nodes = (stmt,)
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names):
                module = node.module or ""
                if node.level or module.split(".")[0] not in _STAR_SAFE:
                    star = f"`from {'.' * node.level}{module} import *`"
                    for key in KEYS:
                        if key not in found:
                            raise _NotStatic(node.lineno, f"{key} is not assigned, and {star} may bind it; {_STATIC}")
                        if found[key][1].lineno < node.lineno:
                            raise _NotStatic(node.lineno, f"{key} may be bound again by {star} below it; {_STATIC}")
    missing = [key for key in KEYS if key not in found]
    # alembic asks a module __getattr__ only for a name the module lacks. The
    # search walks every node (~2x an ast.parse): only when the name may be there.
    if missing and getattr_possible:
        getattr_line = _module_getattr_line(tree)
        if getattr_line is not None:
            raise _NotStatic(
                getattr_line, f"{missing[0]} is not assigned, and the module's `__getattr__` may supply it; {_STATIC}"
            )


def _module_getattr_line(tree: ast.Module) -> int | None:
    """The first line that may give the module a ``__getattr__`` (PEP 562) at import; None if none can.

    On the safe side: a name bound at module level in any way (``def``, ``=``,
    ``import ... as``, a ``for`` or ``with`` target, ``:=``, a ``case``
    capture), a ``global __getattr__`` anywhere, and any write that names it
    (``globals()["__getattr__"] = ...``, ``setattr(module, "__getattr__", ...)``,
    ``globals().update(__getattr__=...)``, ``module.__getattr__ = ...``).
    Function and class bodies bind their own names, not the module's, and
    the bodies of ``if TYPE_CHECKING:`` / ``if __name__ == "__main__":`` never run.
    """
    lines: list[int] = []
    stack: list[tuple[ast.AST, bool]] = []  # (node, whether it runs in the module's scope)
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and _never_runs(stmt.test):
            stack.extend((top, True) for top in stmt.orelse)
        else:
            stack.append((stmt, True))
    while stack:
        node, module_scope = stack.pop()
        if _may_bind_getattr(node, module_scope):
            lines.append(getattr(node, "lineno", 1))
        body = getattr(node, "body", ()) if isinstance(node, _SCOPES) else ()
        inner = {id(part) for part in (body if isinstance(body, list) else (body,))}
        stack.extend((child, module_scope and id(child) not in inner) for child in ast.iter_child_nodes(node))
    return min(lines) if lines else None


def _may_bind_getattr(node: ast.AST, module_scope: bool) -> bool:
    name = "__getattr__"
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return name in node.names
    if isinstance(node, ast.Constant):
        return node.value == name
    if isinstance(node, ast.keyword):
        return node.arg == name
    if isinstance(node, ast.Attribute):
        return node.attr == name and not isinstance(node.ctx, ast.Load)
    if not module_scope:
        return False
    if isinstance(node, ast.Name):
        return node.id == name and not isinstance(node.ctx, ast.Load)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == name
    if isinstance(node, ast.alias):
        return (node.asname or node.name.split(".")[0]) == name
    if isinstance(node, _PATTERN_BINDERS):
        return name in _pattern_names(node)
    return False


def _never_runs(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` (False at run time) or ``if __name__ == "__main__":``.

    alembic imports a revision file under a name of its own (never
    ``__main__``), so neither body runs when it reads the file.
    """
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    if isinstance(test, ast.Attribute):
        return test.attr == "TYPE_CHECKING" and isinstance(test.value, ast.Name)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        sides = (test.left, test.comparators[0])
        return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
            isinstance(s, ast.Constant) and s.value == "__main__" for s in sides
        )
    return False


_TYPING_MODULES = frozenset({"typing", "typing_extensions"})


# Names and attributes of the code that binds a name without spelling it as a
# target: a file that uses one anywhere trusts no guard (``_refuse_rebound_guards``).
_UNSEEN_BINDERS = frozenset({"globals", "vars", "locals", "setattr", "exec", "eval", "__import__", "__builtins__"})
_UNSEEN_BINDING_ATTRIBUTES = frozenset({"__dict__", "modules", "setattr", "__setattr__"})
_UNSEEN_BINDING_MODULES = frozenset({"builtins", "sys", "importlib"})


def _refuse_rebound_guards(tree: ast.Module) -> None:
    """``_NotStatic`` when a block the readers skip (``_never_runs``) may run after all.

    ``if TYPE_CHECKING:`` is skipped for ``typing.TYPE_CHECKING``, which is
    False at run time, and ``if __name__ == "__main__":`` for the name Python
    sets; a file may bind either anew (``TYPE_CHECKING = True``, an import of
    another module's, ``cfg.TYPE_CHECKING = 1``, ``__name__ = "__main__"``).
    On the safe side: a binding anywhere in the file, in any scope, counts
    (an import from typing does not), and ``X.TYPE_CHECKING`` holds only for
    ``X`` imported as typing itself. A file that uses code binding
    names unseen (``globals()``, ``setattr()``, ``sys.modules``, ``__dict__``,
    a star import, the builtins module) trusts no guard.
    """
    opaque = False
    guards: list[ast.If] = []
    typing_names: set[str] = set()
    bound: set[str] = set()  # every name the file binds (but typing's TYPE_CHECKING), in any scope
    attribute_written = False
    # One walk (a 68 kB file is walked several times already), past the bodies the
    # guards skip: what never runs can neither bind a guard's name nor hide a binding.
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _never_runs(node.test):
            guards.append(node)
            stack.append(node.test)
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                bound.add(node.id)
            elif node.id in _UNSEEN_BINDERS:
                opaque = True
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                (typing_names if alias.name in _TYPING_MODULES else bound).add(name)
                opaque |= alias.name.split(".")[0] == "builtins"
        elif isinstance(node, ast.ImportFrom):
            typing_module = node.module in _TYPING_MODULES and not node.level
            opaque |= (node.module or "").split(".")[0] in _UNSEEN_BINDING_MODULES and not node.level
            for alias in node.names:
                opaque |= alias.name == "*"
                if not (typing_module and alias.name == "TYPE_CHECKING"):
                    bound.add(alias.asname or alias.name)
        elif isinstance(node, ast.Attribute):
            attribute_written |= node.attr == "TYPE_CHECKING" and not isinstance(node.ctx, ast.Load)
            opaque |= node.attr in _UNSEEN_BINDING_ATTRIBUTES
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    for guard in guards:
        test = guard.test
        if opaque:
            holds = False
        elif isinstance(test, ast.Name):
            holds = test.id not in bound  # from typing, or nowhere (a NameError alembic meets too)
        elif isinstance(test, ast.Attribute):
            base = test.value
            holds = isinstance(base, ast.Name) and base.id in typing_names and base.id not in bound
            holds = holds and not attribute_written
        else:
            holds = "__name__" not in bound
        if not holds:
            name, setter = ("__name__", "Python") if isinstance(test, ast.Compare) else (ast.unparse(test), "typing")
            how = "may be bound in ways revgraph does not follow" if opaque else "is bound in it, not by " + setter + " alone"
            raise _NotStatic(
                guard.lineno, f"`if {ast.unparse(test)}:` may run when alembic imports the file: {name} {how}; {_STATIC}"
            )


def _refuse(names: list[str], stmt: ast.AST, how: str) -> None:
    for name in names:
        if name in KEYS:
            raise _NotStatic(getattr(stmt, "lineno", 1), f"{name} is {how}; {_STATIC}")


def _refuse_in_block(block: ast.stmt, statements: list[ast.stmt]) -> None:
    """``_NotStatic`` when ``statements`` (in ``block``) or anything inside them binds a key."""
    where = f"`{type(block).__name__.lower()}` at line {block.lineno}"
    for top in statements:
        for node in (top, *_nested_nodes(top)):
            if isinstance(node, ast.ExceptHandler):
                _refuse([node.name] if node.name else [], node, f"bound by `except ... as` ({where})")
            elif isinstance(node, _PATTERN_BINDERS):
                _refuse(_pattern_names(node), node, f"bound by a `case` pattern ({where})")
            elif isinstance(node, ast.Delete):
                _refuse(_statement_names(node), node, f"deleted (`del`) inside a block ({where})")
            elif isinstance(node, ast.stmt):
                _refuse(_statement_names(node), node, f"assigned inside a block ({where})")


_PATTERN_BINDERS = tuple(
    getattr(ast, name) for name in ("MatchAs", "MatchStar", "MatchMapping") if hasattr(ast, name)
)


def _pattern_names(node: ast.AST) -> list[str]:
    """The name a ``case`` pattern captures (``case x``, ``case [*x]``, ``case {**x}``)."""
    name = getattr(node, "rest" if type(node).__name__ == "MatchMapping" else "name", None)
    return [name] if name else []


def _target_names(target: ast.expr | None) -> list[str]:
    """Names an assignment target binds (``a, (b, *c)``), not ``x.a`` or ``x[a]``."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _statement_names(stmt: ast.stmt) -> list[str]:
    """Module-level names one statement binds or unbinds (its own body aside)."""
    if isinstance(stmt, ast.Assign):
        return [name for target in stmt.targets for name in _target_names(target)]
    if isinstance(stmt, (ast.AugAssign, ast.For, ast.AsyncFor)) or (
        isinstance(stmt, ast.AnnAssign) and stmt.value is not None
    ):
        return _target_names(stmt.target)
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [name for item in stmt.items for name in _target_names(item.optional_vars)]
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [alias.asname or alias.name.split(".")[0] for alias in stmt.names]
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, ast.Delete):
        return [name for target in stmt.targets for name in _target_names(target)]
    return []


def _nested_nodes(stmt: ast.stmt) -> Iterator[ast.AST]:
    """Nodes inside a compound statement, not entering functions or classes."""
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            yield child
            if not isinstance(child, _SCOPES):
                stack.append(child)


# ------------------------------------------------- bindings from deeper down
_MODULE, _CLASS, _FUNCTION = 0, 1, 2
# Each word, with the longer words it is commonly part of in migrations. Every
# needle is one more scan of each file (about 1 us for 2 kB): add with care.
# None: any occurrence counts, inside a longer word too (``f_globals``,
# ``__globals__``, ``f_locals``, ``__builtins__``).
_DYNAMIC_NEEDLES = (
    ("exec", ("execute", "exec_")),
    ("eval", ("evaluat",)),
    ("globals", None),
    ("vars", ()),
    ("locals", None),
    ("modules", ()),  # sys.modules[__name__], the module itself
    ("builtins", None),  # getattr(__builtins__, "ex" + "ec")
)
_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_READ_ONLY_METHODS = frozenset({"get", "keys", "values", "items", "copy", "__contains__", "__getitem__"})
_ANY_KEY = "revision, down_revision, branch_labels or depends_on"
_SELF = "sys.modules[__name__]"
_RUNS_CODE = frozenset({"exec", "eval"})
_SETS_ATTRIBUTES = frozenset({"setattr", "delattr"})
_SETS_DUNDERS = ("__setattr__", "__delattr__")
_NAMESPACE_BUILTINS = frozenset({"exec", "eval", "globals", "vars", "locals"})


def _maybe_dynamic(text: str) -> bool:
    """Whether a word that may bind the four names without spelling them occurs (cheap; may say yes wrongly).

    ``exec``, ``eval``, ``globals``, ``vars``, ``locals`` and ``modules``
    (``sys.modules[__name__]``, also what ``setattr()`` needs to bind one by a
    computed name) can each bind them at import, so the fast readers leave
    such a file to ``_read_ast``. ``op.execute`` is another word and costs
    nothing but the ``find``. ``globals``, ``locals`` and ``builtins`` count
    inside longer words too: a frame's ``f_globals``, a function's
    ``__globals__``, ``getattr(__builtins__, name)``.
    """
    for needle, benign in _DYNAMIC_NEEDLES:
        if needle not in text:
            continue
        if benign is None:
            return True
        if benign:
            count = text.count(needle)
            if count == text.count(benign[0]) or count == sum(map(text.count, benign)):
                continue  # only inside longer words: counted at C speed, no loop over them
        pos = text.find(needle)
        while pos >= 0:
            end = pos + len(needle)
            if (pos == 0 or text[pos - 1] not in _ASCII_WORD) and (
                end == len(text) or text[end] not in _ASCII_WORD
            ):
                return True
            pos = text.find(needle, end)
    return False


_STAR_IMPORT = re.compile(r"import[ \t]*(?:\\\r?\n[ \t]*)*\*")


def _may_supply_names(text: str) -> bool:
    """Whether ``from x import *`` or a module ``__getattr__`` occurs (cheap; may say yes wrongly).

    Either may give alembic a value the literals do not show
    (``_refuse_supplied_names``): the fast readers leave such a file to ``_read_ast``.
    """
    return "__getattr__" in text or ("*" in text and _STAR_IMPORT.search(text) is not None)


_ASCII_BYTES = bytes(range(128))
# Non-ASCII characters seen that NFKC leaves without ASCII letters, as a `str.translate` table deleting them.
_PLAIN_CHARS: dict[int, None] = {}


def _disguised(code: bytes, encoding: str) -> bool:
    """Whether a non-ASCII character of ``code`` reads as an ASCII letter, digit or ``_`` in a name.

    Python reads names NFKC-normalised: ``ｅｘｅｃ(...)`` calls exec and
    ``down_revisｉon = ...`` binds down_revision, which no substring scan for
    the ASCII words sees. ``encoding`` is UTF-8 or a single-byte codec, so
    the non-ASCII bytes alone decode to the non-ASCII characters: one
    ``translate`` and a look at those few (accents, CJK text and `，` give
    no ASCII letter; a `²` in a comment is a false alarm).
    """
    others = code.translate(None, _ASCII_BYTES)
    if not others:
        return False
    unknown = others.decode(encoding, "replace").translate(_PLAIN_CHARS)  # drops those seen before
    if not unknown:
        return False
    if len(_PLAIN_CHARS) >= 65536:
        _PLAIN_CHARS.clear()
    for char in set(unknown):  # char by char, remembered: cheaper than normalising the text
        if not _ASCII_WORD.isdisjoint(unicodedata.normalize("NFKC", char)):
            return True
        _PLAIN_CHARS[ord(char)] = None
    return False


class _Dynamic:
    """What ``_refuse_dynamic_bindings`` learns about one module as it walks it."""

    def __init__(self, tree: ast.Module, text: str) -> None:
        self.tree = tree
        self.run_at_import: frozenset[str] | None = None  # ``_names_run_at_import``, on first use
        self.handled: set[int] = set()  # ids of globals()/vars()/sys.modules[__name__] uses known harmless
        self.unknown_call: tuple[int, str] | None = None  # the first call at import nothing names (see _refuse_call)
        # Names for builtins: `import builtins as b` (b -> ""), `from builtins import exec as run`
        # (run -> "exec"); `__builtins__` is the builtins module, or its dict, in every module.
        self.builtins: dict[str, str] = {"__builtins__": ""}
        self.sys_names = {"sys"}  # `import sys as s`
        self.imported_modules: set[str] = set()  # names for sys.modules: `from sys import modules as mods`
        if "builtins" in text or "modules" in text:
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name == "builtins":
                            self.builtins[alias.asname or alias.name] = ""
                        elif alias.name == "sys":
                            self.sys_names.add(alias.asname or alias.name)
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    for alias in node.names:
                        if node.module == "builtins":
                            self.builtins[alias.asname or alias.name] = alias.name
                        elif node.module == "sys" and alias.name == "modules":
                            self.imported_modules.add(alias.asname or alias.name)

    def sys_modules(self, node: ast.AST) -> bool:
        """Whether ``node`` is ``sys.modules`` itself (``sys`` or an alias, or ``modules`` imported from it)."""
        if isinstance(node, ast.Attribute):
            return node.attr == "modules" and isinstance(node.value, ast.Name) and node.value.id in self.sys_names
        return isinstance(node, ast.Name) and node.id in self.imported_modules

    def builtins_module(self, node: ast.AST | None) -> bool:
        """Whether ``node`` names the builtins module (``builtins``, an alias, ``__builtins__``)."""
        return isinstance(node, ast.Name) and self.builtins.get(node.id) == ""

    def builtin(self, node: ast.AST) -> str | None:
        """The builtin ``node`` names: ``exec`` for ``exec``, ``builtins.exec``, ``b.exec``, an alias."""
        if isinstance(node, ast.Name):
            return self.builtins.get(node.id) or node.id
        if isinstance(node, ast.Attribute):
            return node.attr if self.builtins_module(node.value) else None
        if isinstance(node, ast.Subscript) and self.builtins_module(node.value):  # __builtins__["exec"]
            key = node.slice
            return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
        return None

    def may_be_called(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """Whether anything may call the function at import: a decorator, a dunder, or
        its name in code that runs at import (``_names_run_at_import``).

        alembic itself calls ``upgrade()`` and ``downgrade()``, never at import;
        a helper only they call does not run at import either.
        """
        name = node.name
        if node.decorator_list or (name.startswith("__") and name.endswith("__")):
            return True
        if self.run_at_import is None:
            self.run_at_import = _names_run_at_import(self.tree)
        return self.run_at_import is _EVERY_NAME or name in self.run_at_import


_EVERY_NAME: frozenset[str] = frozenset()  # (by identity) a call at import whose target has no name
_WORDS = re.compile(r"\w+")


def _names_run_at_import(tree: ast.Module) -> frozenset[str]:
    """The names that code run at import mentions, also through the bodies of the
    functions it names, and so on: a function named nowhere in that set never runs
    at import. ``_EVERY_NAME`` when a call at import has no name to follow
    (``globals()[name]()``, ``handlers[0]()``).

    Conservative: an attribute's name counts (``C().m()`` names ``m``), so do the
    words of a string (``getattr(module, "f")``) and every name a function body
    mentions, nested functions included; code under ``if TYPE_CHECKING:`` counts.
    A decorated function and a dunder count as named, and so does every method of
    a class named, decorated or made from a base or metaclass: Python may call
    them without their name being written.
    """
    bodies: dict[str, set[str]] = {}  # function name -> the names its body mentions
    named: set[str] = set()
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # Decorators, defaults and annotations run where the definition does; the body when called.
            stack.extend(node.decorator_list)
            stack.extend(node.args.defaults)
            stack.extend(d for d in node.args.kw_defaults if d is not None)
            stack.extend(a.annotation for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
                         if a.annotation is not None)  # fmt: skip
            if node.returns is not None:
                stack.append(node.returns)
            bodies.setdefault(node.name, set()).update(
                name for stmt in node.body for child in ast.walk(stmt) for name in _named_by(child)
            )
            if node.decorator_list or (node.name.startswith("__") and node.name.endswith("__")):
                named.add(node.name)  # may be called with no name at import (``may_be_called``): follow it
            continue
        if isinstance(node, ast.ClassDef):
            # Python calls methods by protocol, unnamed: ``__init__`` for ``C()``,
            # ``keys`` for ``dict(**c)``, ``write`` for ``print(file=c)``. A class
            # named at import "names" all its methods (followed like a function's body).
            bodies.setdefault(node.name, set()).update(
                child.name for child in node.body if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            )
            if node.decorator_list or node.bases or node.keywords:
                # A decorator gets the class and may use it; a base's metaclass may call
                # methods while the class is made (Enum's `_generate_next_value_`).
                named.add(node.name)
            # Its own name is no use of it: the rest of the statement runs now.
            stack.extend(ast.iter_child_nodes(node))
            continue
        if isinstance(node, ast.Call) and not isinstance(node.func, (ast.Name, ast.Attribute)):
            return _EVERY_NAME
        named.update(_named_by(node))
        stack.extend(ast.iter_child_nodes(node))
    pending = [name for name in named if name in bodies]
    while pending:
        for name in bodies.pop(pending.pop(), ()):
            if name not in named:
                named.add(name)
                if name in bodies:
                    pending.append(name)
    return frozenset(named)


def _named_by(node: ast.AST) -> Sequence[str]:
    """What ``node`` itself names: a name, an attribute's name, a definition's name, a string's words."""
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        return (node.attr,)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return (node.name,)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _WORDS.findall(node.value)
    return ()


def _refuse_dynamic_bindings(tree: ast.Module, text: str) -> None:
    """``_NotStatic`` for what binds a key at import other than a top-level statement.

    ``text`` is the source NFKC-normalised, as Python reads names (``ｆ()`` calls f).

    ``(down_revision := ...)`` in code that runs at module level; ``global
    down_revision`` in a class body or a function that may run at import;
    ``exec()`` / ``eval()`` (also as ``builtins.exec``) in code that may run at
    import, or handed on there (``run = exec``); ``setattr()`` / ``delattr()``
    of a key at import, or on the module itself with a computed name;
    ``globals()`` and ``sys.modules[__name__]`` anywhere and ``vars()`` /
    ``locals()`` at module level, unless only read. A function's body may run
    at import unless the function is defined in code that does not, or no code
    run at import names it (``_Dynamic.may_be_called``). The bodies
    of ``if TYPE_CHECKING:`` / ``if __name__ == "__main__":`` never run.
    Called only when the source holds ``:=``, ``global``, ``attr`` (``setattr``
    with a key's name spells the name, so the fast readers leave it) or one of
    ``_maybe_dynamic``'s words.
    """
    # (node, scope, may run at import): a class body runs when the code around it does.
    stack: list[tuple[ast.AST, int, bool]] = [(stmt, _MODULE, True) for stmt in reversed(tree.body)]
    seen = _Dynamic(tree, text)
    while stack:
        node, scope, at_import = stack.pop()
        _refuse_dynamic_node(node, scope, at_import, seen)
        stack.extend(reversed(_scoped_children(node, scope, at_import, seen)))
    if seen.unknown_call is not None:
        line, what = seen.unknown_call
        raise _NotStatic(line, f"{what} runs when alembic imports the file and may bind {_ANY_KEY}; {_STATIC}")


def _refuse_dynamic_node(node: ast.AST, scope: int, at_import: bool, seen: _Dynamic) -> None:
    if isinstance(node, ast.NamedExpr):
        target = node.target
        if scope == _MODULE and isinstance(target, ast.Name) and target.id in KEYS:
            raise _NotStatic(node.lineno, f"{target.id} is assigned with `:=`; {_STATIC}")
    elif isinstance(node, ast.Global):
        if scope != _MODULE and at_import:  # `global` at module level changes nothing
            kind = "a function that may run at import" if scope == _FUNCTION else "a class body"
            _refuse(node.names, node, f"declared `global` in {kind}, which may rebind it")
    elif isinstance(node, ast.Call):
        _refuse_call(node, scope, at_import, seen)
    elif isinstance(node, ast.Name):
        if isinstance(node.ctx, ast.Load):
            _refuse_reference(node, at_import, seen)
            _refuse_modules_handed_on(node, at_import, seen)
    elif isinstance(node, ast.Subscript):
        if seen.sys_modules(node.value):
            seen.handled.add(id(node.value))  # subscripted: `_self_module` judges the key
        _refuse_reference(node, at_import, seen)
        if _self_module(node, seen):
            if id(node) not in seen.handled:
                raise _NotStatic(
                    node.lineno, f"`{_SELF}` is used in a way that may bind {_ANY_KEY}; {_STATIC}"
                )
            return
        namespace = _namespace(node.value, scope, seen)
        if namespace:
            key = node.slice
            literal = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
            if isinstance(node.ctx, ast.Load) or (literal is not None and literal not in KEYS):
                seen.handled.add(id(node.value))  # reads, or writes another name
            elif literal is not None:
                verb = "assigned" if isinstance(node.ctx, ast.Store) else "deleted"
                raise _NotStatic(node.lineno, f"{literal} is {verb} through `{namespace}[...]`; {_STATIC}")
    elif isinstance(node, ast.Attribute):
        _refuse_attribute(node, scope, at_import, seen)
    elif isinstance(node, ast.Compare):
        for side in (node.left, *node.comparators):  # `"x" in globals()`, `"x" in sys.modules`
            if _namespace(side, scope, seen) or seen.sys_modules(side):
                seen.handled.add(id(side))


def _refuse_call(node: ast.Call, scope: int, at_import: bool, seen: _Dynamic) -> None:
    if at_import and seen.unknown_call is None:
        # `__import__("builtins").exec(...)`, `print.__self__.exec(...)`, whatever it is
        # called on, and a computed callee (`__builtins__.get("exec")(...)`): refused
        # after the walk, unless a rule with more to say refuses the file first.
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _RUNS_CODE and seen.builtin(func) is None:
            seen.unknown_call = (node.lineno, f"`.{func.attr}()`")
        elif not isinstance(func, (ast.Name, ast.Attribute)):
            seen.unknown_call = (node.lineno, "a call of a computed function")
    name = seen.builtin(node.func)
    seen.handled.add(id(node.func))  # called here, not handed on (`_refuse_reference`)
    if isinstance(node.func, ast.Attribute) and node.func.attr == "get" and seen.sys_modules(node.func.value):
        seen.handled.add(id(node.func.value))  # `sys.modules.get(...)`: `_self_module` judges the key
    if name == "vars" and node.args and seen.builtins_module(node.args[0]) and at_import:
        raise _NotStatic(node.lineno, f"`vars()` of the builtins at import hands on `exec` and the like; {_STATIC}")
    if name in _RUNS_CODE and at_import:
        raise _NotStatic(
            node.lineno, f"`{name}()` runs when alembic imports the file and may bind {_ANY_KEY}; {_STATIC}"
        )
    if name in _SETS_ATTRIBUTES or name in ("getattr", "hasattr"):
        target = node.args[0] if node.args else None
        key = node.args[1] if len(node.args) > 1 else None
        literal = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
        if name in _SETS_ATTRIBUTES and literal in KEYS and (at_import or _self_module(target, seen)):
            verb = "assigned" if name == "setattr" else "deleted"
            raise _NotStatic(node.lineno, f"{literal} is {verb} by `{name}()`; {_STATIC}")
        if name in _SETS_ATTRIBUTES and literal is None and _self_module(target, seen):
            raise _NotStatic(node.lineno, f"`{name}()` with a computed name may bind {_ANY_KEY}; {_STATIC}")
        if _self_module(target, seen) and literal is not None and literal not in ("__dict__", *_SETS_DUNDERS):
            seen.handled.add(id(target))  # reads, or writes another name
        if name == "getattr" and at_import and literal is None and not seen.builtins_module(target):
            # `getattr(f, "__glo" + "bals__")`: any namespace, any name.
            raise _NotStatic(node.lineno, f"`getattr()` with a computed name at import may reach {_ANY_KEY}; {_STATIC}")
        if name == "getattr" and at_import and seen.builtins_module(target):
            if literal is None or literal in _NAMESPACE_BUILTINS or literal in _SETS_ATTRIBUTES or literal == "__dict__":
                what = f"`{literal}`" if literal is not None else "a builtin by a computed name"
                raise _NotStatic(
                    node.lineno, f"`getattr()` takes {what} from the builtins at import, where a call may bind "
                    f"{_ANY_KEY}; {_STATIC}",
                )  # fmt: skip
        return
    if _self_module(node, seen) and id(node) not in seen.handled:
        raise _NotStatic(node.lineno, f"`{_SELF}` is used in a way that may bind {_ANY_KEY}; {_STATIC}")
    namespace = _namespace(node, scope, seen)
    if namespace and id(node) not in seen.handled:
        raise _NotStatic(node.lineno, f"`{namespace}` is used in a way that may bind {_ANY_KEY}; {_STATIC}")


def _refuse_reference(node: ast.expr, at_import: bool, seen: _Dynamic) -> None:
    """``_NotStatic`` for ``exec`` & co. handed on at import (``run = exec``), not called where they stand."""
    if at_import and id(node) not in seen.handled:
        name = seen.builtin(node)
        if name in _NAMESPACE_BUILTINS:
            raise _NotStatic(
                node.lineno, f"`{name}` is handed on at import, where a call may bind {_ANY_KEY}; {_STATIC}"
            )


def _refuse_modules_handed_on(node: ast.expr, at_import: bool, seen: _Dynamic) -> None:
    """``_NotStatic`` for ``sys.modules`` at import other than subscripted, ``.get()`` or ``in``:
    an alias (``mods = sys.modules``) or a walk over it reaches the module as well."""
    if at_import and id(node) not in seen.handled and seen.sys_modules(node):
        raise _NotStatic(
            node.lineno, f"`sys.modules` is handed on at import, where it may reach the module and bind "
            f"{_ANY_KEY}; {_STATIC}",
        )  # fmt: skip


# Attributes that reach a module's namespace from a frame or a function.
_FOREIGN_NAMESPACES = frozenset({"f_globals", "f_locals", "__globals__"})


def _refuse_attribute(node: ast.Attribute, scope: int, at_import: bool, seen: _Dynamic) -> None:
    _refuse_reference(node, at_import, seen)
    _refuse_modules_handed_on(node, at_import, seen)
    if at_import and node.attr in _FOREIGN_NAMESPACES:
        raise _NotStatic(
            node.lineno, f"`.{node.attr}` reaches a namespace at import, where a write may bind {_ANY_KEY}; {_STATIC}"
        )
    if at_import and node.attr == "__dict__" and seen.builtins_module(node.value):
        raise _NotStatic(node.lineno, f"the builtins' `__dict__` at import hands on `exec` and the like; {_STATIC}")
    if _self_module(node.value, seen):
        if node.attr == "__dict__":
            if id(node) not in seen.handled:
                raise _NotStatic(
                    node.lineno, f"`{_SELF}.__dict__` is used in a way that may bind {_ANY_KEY}; {_STATIC}"
                )
        elif not isinstance(node.ctx, ast.Load):
            verb = "assigned" if isinstance(node.ctx, ast.Store) else "deleted"
            _refuse([node.attr], node, f"{verb} through `{_SELF}.{node.attr}`")
        elif node.attr in _SETS_DUNDERS:
            raise _NotStatic(node.lineno, f"`{_SELF}.{node.attr}` may bind {_ANY_KEY}; {_STATIC}")
        seen.handled.add(id(node.value))
        return
    namespace = _namespace(node.value, scope, seen)
    if namespace:
        if node.attr not in _READ_ONLY_METHODS:
            raise _NotStatic(node.lineno, f"`{namespace}.{node.attr}` may bind {_ANY_KEY}; {_STATIC}")
        seen.handled.add(id(node.value))


def _self_module(node: ast.AST | None, seen: _Dynamic) -> bool:
    """Whether ``node`` may be the module itself: ``sys.modules[__name__]`` or ``.get(__name__)``.

    Conservative: ``sys.modules`` (any alias of ``sys``, or ``modules`` imported
    from it) subscripted by anything but a string literal.
    """
    if isinstance(node, ast.Subscript):
        container, key = node.value, node.slice
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        container, key = node.func.value, node.args[0] if node.args else None
    else:
        return False
    # Any `x.modules`, and a bare `modules` even when not imported from sys: conservative.
    modules = (isinstance(container, ast.Attribute) and container.attr == "modules") or (
        isinstance(container, ast.Name) and (container.id == "modules" or container.id in seen.imported_modules)
    )
    return modules and not (isinstance(key, ast.Constant) and isinstance(key.value, str))


def _namespace(node: ast.AST, scope: int, seen: _Dynamic) -> str | None:
    """How ``node`` spells the module's namespace (``"globals()"``, ``"vars()"`` ...), if it does."""
    if isinstance(node, ast.Attribute) and node.attr == "__dict__" and _self_module(node.value, seen):
        return f"{_SELF}.__dict__"
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    name = seen.builtin(node.func)
    if not node.args:
        if name == "globals" or (name in ("vars", "locals") and scope == _MODULE):
            return f"{name}()"
    elif name == "vars" and len(node.args) == 1 and _self_module(node.args[0], seen):
        seen.handled.add(id(node.args[0]))
        return f"vars({_SELF})"
    return None


def _scoped_children(
    node: ast.AST, scope: int, at_import: bool, seen: _Dynamic
) -> list[tuple[ast.AST, int, bool]]:
    """``node``'s children with the scope they run in: a body is its own, defaults are not.

    A function's body may run at import when its definition does and something
    may call it; a lambda's, when its definition does; a class body's, when its
    definition does.
    """
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
        if isinstance(node, ast.ClassDef):
            inner = (_CLASS, at_import)
        elif isinstance(node, ast.Lambda):
            inner = (_FUNCTION, at_import)
        else:
            inner = (_FUNCTION, at_import and seen.may_be_called(node))
        body = node.body if isinstance(node.body, list) else [node.body]
        own = {id(stmt) for stmt in body}
        return [
            (child, *inner) if id(child) in own else (child, scope, at_import)
            for child in ast.iter_child_nodes(node)
        ]
    if scope == _MODULE and isinstance(node, ast.If) and _never_runs(node.test):
        return [(child, scope, at_import) for child in (node.test, *node.orelse)]
    return [(child, scope, at_import) for child in ast.iter_child_nodes(node)]


def _literal(name: str, node: ast.expr, stmt: ast.stmt) -> object:
    """The Python value of a literal node; ``_NotStatic`` for anything computed."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = []
        for element in node.elts:
            if not isinstance(element, ast.Constant):
                raise _NotStatic(
                    stmt.lineno, f"{name} is not a literal ({type(element).__name__} inside); {_STATIC}"
                )
            items.append(element.value)
        return set(items) if isinstance(node, ast.Set) else tuple(items)
    raise _NotStatic(stmt.lineno, f"{name} is not a literal ({type(node).__name__}); {_STATIC}")


def _ast_docstring(tree: ast.Module, positions: _Positions) -> _Docstring | None:
    if not tree.body:
        return None
    first = tree.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return _Docstring(first.value.value, positions.span(first.value))
    return None


class _Positions:
    """ast (line, UTF-8 column of the decoded line) -> byte offset in the original data."""

    def __init__(self, src: _Source) -> None:
        self.src = src
        self.line_starts = [src.bom] + [m.end() for m in _NEWLINE.finditer(src.data, src.bom)]
        self._lines: list[str] | None = None

    def offset(self, line: int, col: int) -> int:
        start = self.line_starts[line - 1]
        if self.src.encoding == "utf-8":
            return start + col  # the line's bytes are its UTF-8 bytes
        if self._lines is None:
            self._lines = _NEWLINE_TEXT.split(self.src.text)
        text = self._lines[line - 1]
        chars = len(text.encode("utf-8")[:col].decode("utf-8", "ignore"))
        return start + len(text[:chars].encode(self.src.encoding))

    def span(self, node: ast.expr) -> Span:
        end_line = node.end_lineno or node.lineno
        end_col = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        return Span(self.offset(node.lineno, node.col_offset), self.offset(end_line, end_col), node.lineno)


# ============================================================ header -> Revision
_DOC_OPENING = re.compile(rb"[rRuUbBfF]*('''|\"\"\"|'|\")")
# Starts with a character class, so `re` skips from line break to line break.
_DOC_FIELD = re.compile(rb"[\r\n][ \t]*(Revision ID|Revises|Create Date):[ \t]*([^\r\n]*)")
_DOC_KEYS = {b"Revision ID": "revision_id_line", b"Revises": "revises_line", b"Create Date": "create_date"}


def _to_revision(src: _Source, header: _Header, path: str, blob_id: str | None) -> Revision | ParseProblem:
    sequences: dict[str, tuple[str, ...]] = {}
    for name in KEYS[1:]:
        assignment = header.assignments.get(name)
        if assignment is None:
            continue
        value = _as_tuple(assignment.value)
        if value == (None,):
            # alembic's tuple_rev_as_scalar makes a one-item tuple its item, here None;
            # branch_labels are not passed through it: a label None is refused.
            value = () if name != "branch_labels" else None
        if value is None:
            reason = f"{name} {_SEQ_RULE} (got {_describe(assignment.value)})"
            return ParseProblem(path, assignment.line, reason, blob_id)
        sequences[name] = value
    rev_id = _revision_id(header.assignments.get("revision"), path, blob_id)
    if isinstance(rev_id, ParseProblem):
        return rev_id
    if "down_revision" not in sequences:
        line = header.assignments["revision"].line if "revision" in header.assignments else 1
        return ParseProblem(
            path,
            line,
            "no `down_revision = ...` assignment (alembic needs one; a base says `= None`)",
            blob_id,
        )
    spans = {name: a.span for name, a in header.assignments.items()}
    ignores, ignore_lines = _ignores(src.text)
    doc = _doc_fields(src, header.docstring, spans)
    return Revision(
        id=rev_id,
        down_revisions=sequences["down_revision"],
        branch_labels=sequences.get("branch_labels", ()),
        depends_on=sequences.get("depends_on", ()),
        path=path,
        blob_id=blob_id,
        message=_message(header.docstring),
        create_date=doc.get("create_date"),
        doc_revision_id=doc.get("revision_id_line"),
        doc_revises=doc.get("revises_line"),
        spans=spans,
        ignores=ignores,
        ignore_lines=ignore_lines,
    )


def _as_tuple(value: object) -> tuple[str, ...] | tuple[None] | None:
    """alembic's ``util.to_tuple`` for strings / sequences of strings / None; None if refused.

    A set reads as its sorted items (alembic takes them in hash order, which
    no graph depends on). ``(None,)`` is returned as it is: alembic reads it
    as None for ``down_revision`` and ``depends_on``, the caller decides.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, set)):
        if all(isinstance(item, str) for item in value):
            return value if isinstance(value, tuple) else tuple(sorted(value))
        if len(value) == 1 and None in value:
            return (None,)
    return None


def _describe(value: object) -> str:
    if isinstance(value, (tuple, set)):
        inner = sorted({type(item).__name__ for item in value if not isinstance(item, str)})
        return (
            f"a {type(value).__name__} containing {', '.join(inner)}"
            if inner
            else f"a {type(value).__name__}"
        )
    return type(value).__name__


def _revision_id(assignment: _Assignment | None, path: str, blob_id: str | None) -> str | ParseProblem:
    if assignment is None:
        legacy = _LEGACY_NAME.match(path.rsplit("/", 1)[-1])
        if legacy:
            return legacy.group(1)  # alembic 0.1 files: the id is the file name
        return ParseProblem(path, 1, "no `revision = '...'` assignment", blob_id)
    value = assignment.value
    if not isinstance(value, str):
        return ParseProblem(
            path, assignment.line, f"revision must be a string (got {_describe(value)})", blob_id
        )
    if not value:
        return ParseProblem(path, assignment.line, "revision id is empty", blob_id)
    illegal = sorted(_ILLEGAL_ID_CHARS.intersection(value))
    if illegal:
        chars = ", ".join(repr(c) for c in illegal)
        return ParseProblem(
            path,
            assignment.line,
            f"revision id {value!r} contains {chars}, which alembic does not allow",
            blob_id,
        )
    if value in _RESERVED_IDS:
        return ParseProblem(
            path,
            assignment.line,
            f"revision id {value!r} is a name alembic reserves (base, head, heads): it reads a "
            f"database stamped {value!r} as "
            + ("having nothing applied" if value == "base" else "being at head, and skips what follows"),
            blob_id,
        )
    return value


def _doc_fields(src: _Source, docstring: _Docstring | None, spans: dict[str, Span]) -> dict[str, str]:
    """``Revision ID:`` / ``Revises:`` / ``Create Date:`` lines of the raw docstring literal.

    Adds the ``docstring``, ``revision_id_line`` and ``revises_line`` spans.
    Read from the source bytes (what the rewriter edits), first occurrence wins.
    """
    if docstring is None:
        return {}
    data = src.data
    spans["docstring"] = docstring.span
    opening = _DOC_OPENING.match(data, docstring.span.start)
    content_start = opening.end() if opening else docstring.span.start
    quote = opening.group(1) if opening else b""
    content_end = max(content_start, docstring.span.end - len(quote))
    found: dict[str, str] = {}
    for match in _DOC_FIELD.finditer(data, content_start, content_end):
        key = _DOC_KEYS[match.group(1)]
        if key in found:
            continue
        found[key] = match.group(2).decode(src.encoding).strip()
        if key != "create_date":
            start, end = match.span(2)
            spans[key] = Span(start, end, _line_of(data, start))
    return found


def _message(docstring: _Docstring | None) -> str | None:
    return None if docstring is None else _first_line(docstring.value)


def _first_line(docstring: str) -> str | None:
    """The first line of the docstring, where alembic's templates put ``${message}``."""
    first = docstring.strip().split("\n", 1)[0].strip()
    if not first or first.startswith(("Revision ID:", "Revises:", "Create Date:")):
        return None
    return first


_IGNORE = re.compile(r"#[ \t]*revgraph:[ \t]*ignore\b(?:\[([^\]\r\n]*)\])?")


def _ignores(text: str) -> tuple[frozenset[str], tuple[tuple[str, int], ...]]:
    """The codes ``# revgraph: ignore[...]`` comments name (``*``: a bare ignore), and
    ``(code, line)`` of the first comment naming each, by code.

    Comments only: the same words inside a string (``NOTE = "# revgraph:
    ignore[RG402]"``) silence nothing. A file the tokenizer refuses (it is
    RG107's) is searched whole, as before.
    """
    if "revgraph" not in text:
        return _NO_IGNORES, ()
    import io
    import tokenize

    try:
        comments = [
            (token.start[0], token.string)
            for token in tokenize.generate_tokens(io.StringIO(text).readline)
            if token.type == tokenize.COMMENT and "revgraph" in token.string
        ]
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError):
        comments = [(number, line) for number, line in enumerate(text.split("\n"), 1) if "revgraph" in line]
    lines: dict[str, int] = {}
    for number, comment in comments:
        for match in _IGNORE.finditer(comment):
            if match.group(1) is None:
                lines.setdefault("*", number)
            elif not match.group(1).strip(" \t,"):
                # `ignore[]` silences nothing; "" names no rule, so RG404 reports it.
                lines.setdefault("", number)
            else:
                for code in match.group(1).split(","):
                    if code.strip():
                        lines.setdefault(code.strip().upper(), number)
    return frozenset(lines), tuple(sorted(lines.items()))


# ================================================================= touches
_UPGRADE_DEF = re.compile(r"def[ \t]+upgrade\w*[ \t]*\(")
_NEXT_TOP_LEVEL = re.compile(r"\n(?:@|(?:async[ \t]+)?def\b|class\b)")
_ASYNC_PREFIX = re.compile(r"async[ \t]+")


def _upgrade_bodies(text: str) -> str:
    """``def upgrade`` (and multidb's ``def upgrade_<name>``) up to the next top-level def."""
    parts = []
    for match in _UPGRADE_DEF.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        prefix = text[line_start : match.start()]
        if prefix and not _ASYNC_PREFIX.fullmatch(prefix):
            continue  # a method or a nested function
        following = _NEXT_TOP_LEVEL.search(text, match.end())
        parts.append(text[match.start() : following.start() + 1 if following else len(text)])
    return "\n".join(parts)


def _s(name: str) -> str:
    """A one-line string literal whose content is group ``name``."""
    return rf"""[rRuU]?(?P<{name}_q>['"])(?P<{name}>[^'"\\\n]*)(?P={name}_q)"""


def _named(name: str) -> str:
    """A name literal, possibly wrapped in ``op.f(...)`` / ``batch_op.f(...)``, or ``None``."""
    return rf"(?:(?:[A-Za-z_]\w*\s*\.\s*)?f\(\s*)?{_s(name)}(?:\s*\))?|None"


_COLUMN = r"(?:(?:sa|sqlalchemy)\s*\.\s*)?Column\s*\(\s*"
_SEP = r"\s*,\s*"
_OP_ARGS = {  # what follows `op.<method>(`
    "create_table": rf"\s*{_s('t')}",
    "drop_table": rf"\s*{_s('t')}",
    "create_table_comment": rf"\s*{_s('t')}",
    "drop_table_comment": rf"\s*{_s('t')}",
    "batch_alter_table": rf"\s*{_s('t')}",
    "rename_table": rf"\s*{_s('t')}{_SEP}{_s('t2')}",
    "add_column": rf"\s*{_s('t')}(?:{_SEP}{_COLUMN}{_s('c')})?",
    "drop_column": rf"\s*{_s('t')}(?:{_SEP}{_s('c')})?",
    "alter_column": rf"\s*{_s('t')}(?:{_SEP}{_s('c')})?",
    "create_index": rf"\s*(?:{_named('ix')})(?:{_SEP}{_s('t')})?",
    "drop_index": rf"\s*(?:{_named('ix')})(?:{_SEP}{_s('t')})?",
    "create_foreign_key": rf"\s*(?:{_named('n')})(?:{_SEP}{_s('t')}(?:{_SEP}{_s('t2')})?)?",
    "create_unique_constraint": rf"\s*(?:{_named('n')})(?:{_SEP}{_s('t')})?",
    "create_check_constraint": rf"\s*(?:{_named('n')})(?:{_SEP}{_s('t')})?",
    "create_primary_key": rf"\s*(?:{_named('n')})(?:{_SEP}{_s('t')})?",
    "create_exclude_constraint": rf"\s*(?:{_named('n')})(?:{_SEP}{_s('t')})?",
    "drop_constraint": rf"\s*(?:{_named('n')})(?:{_SEP}{_s('t')})?",
}
_BATCH_ARGS = {  # what follows `batch_op.<method>(`: the table comes from the `with`
    "add_column": rf"\s*{_COLUMN}{_s('c')}",
    "drop_column": rf"\s*{_s('c')}",
    "alter_column": rf"\s*{_s('c')}",
    "create_index": rf"\s*(?:{_named('ix')})",
    "drop_index": rf"\s*(?:{_named('ix')})",
    "create_foreign_key": rf"\s*(?:{_named('n')})(?:{_SEP}{_s('t2')})?",
    "create_unique_constraint": rf"\s*(?:{_named('n')})",
    "create_check_constraint": rf"\s*(?:{_named('n')})",
    "create_primary_key": rf"\s*(?:{_named('n')})",
    "create_exclude_constraint": rf"\s*(?:{_named('n')})",
    "drop_constraint": rf"\s*(?:{_named('n')})",
}
_OP_PATTERNS = {name: re.compile(pattern) for name, pattern in _OP_ARGS.items()}
_BATCH_PATTERNS = {name: re.compile(pattern) for name, pattern in _BATCH_ARGS.items()}
# Regexes that start with a literal let `re` skip ahead with a fast substring
# search; one alternation with a look-behind up front costs ~10x more.
_METHOD_CALL = re.compile(
    r"\.[ \t]*(?P<meth>" + "|".join(sorted([*_OP_ARGS, "execute"], key=len, reverse=True)) + r")[ \t]*\("
)
_TABLE_CALL = re.compile(r"able[ \t]*\(\s*" + _s("tt"))
_BATCH_WITH = re.compile(
    r"(?<![\w.])op\s*\.\s*batch_alter_table\s*\(\s*"
    + _s("t")
    + r"[^:]*?\)\s*as\s+(?P<alias>[A-Za-z_]\w*)\s*:"
)
_TABLE_NAME_KW = re.compile(r"\btable_name\s*=\s*" + _s("t"))
_NEW_COLUMN_KW = re.compile(r"\bnew_column_name\s*=\s*" + _s("c"))
_STR_LITERAL = (
    r"""[rRuU]?(?:\"\"\"(?P<a>[\s\S]*?)\"\"\"|'''(?P<b>[\s\S]*?)'''"""
    r"""|"(?P<c>(?:[^"\\\n]|\\.)*)"|'(?P<d>(?:[^'\\\n]|\\.)*)')"""
)
_STR_LITERAL_RE = re.compile(_STR_LITERAL)
_EXECUTE_ARG = re.compile(
    r"\s*(?:(?:(?:sa|sqlalchemy)\s*\.\s*)?text\s*\(\s*)?\(?\s*(?P<sql>(?:"
    + _STR_LITERAL.replace("?P<a>", "?:").replace("?P<b>", "?:").replace("?P<c>", "?:").replace("?P<d>", "?:")
    + r"(?:\s|\\\r?\n)*)+)"  # literals Python joins: blanks, newlines, a line continuation
)
_IDENT = r'(?:[\w$]+|"[^"]+"|`[^`]+`|\[[^\]]+\])'
_SQL_TABLE = re.compile(
    r"(?<![\w.])(?:INSERT\s+INTO|(?<!ON )(?<!FOR )(?<!DO )UPDATE|DELETE\s+FROM|ALTER\s+TABLE|"
    r"CREATE\s+(?:(?:GLOBAL\s+|LOCAL\s+)?(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE|DROP\s+TABLE|"
    r"TRUNCATE(?:\s+TABLE)?)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?:ONLY\s+)?"
    rf"(?P<name>{_IDENT}(?:\s*\.\s*{_IDENT})*)",
    re.IGNORECASE,
)
_SQL_NOT_A_TABLE = frozenset({"set", "cascade", "restrict", "only", "table", "if", "of", "from", "into"})


def _batch_aliases(text: str) -> list[tuple[int, str, str]]:
    """``(position, alias, table)`` for each ``with op.batch_alter_table('t') as alias:``."""
    if "batch_alter_table" not in text:
        return []
    return [(m.start(), m.group("alias"), m.group("t")) for m in _BATCH_WITH.finditer(text)]


def _batch_table(batches: list[tuple[int, str, str]], alias: str, pos: int) -> str | None:
    table = None
    for start, name, found in batches:
        if start > pos:
            break
        if name == alias:
            table = found  # the nearest preceding `with` that binds this alias
    return table


class _Call(NamedTuple):
    start: int
    end: int  # just after the opening parenthesis
    obj: str | None  # the name before the dot; None for sa.Table(...)
    method: str  # an op method, "execute" or "Table"
    table: str | None = None  # sa.Table's literal name


def _calls(text: str) -> list[_Call]:
    """``<obj>.<op method>(`` and ``sa.Table('t'`` / ``table('t'`` calls, in text order."""
    calls = []
    for match in _METHOD_CALL.finditer(text):
        obj = _name_before(text, match.start())
        calls.append(
            _build(_Call, (match.start() - len(obj or ""), match.end(), obj, match.group("meth"), None))
        )
    if "Table" in text or text.count("table") > text.count("_table"):  # skip the scan for op.*_table only
        for match in _TABLE_CALL.finditer(text):
            letter = match.start() - 1
            if letter >= 0 and text[letter] in "Tt" and _is_table_constructor(text, letter):
                calls.append(_build(_Call, (letter, match.end(), None, "Table", match.group("tt"))))
        calls.sort(key=_call_start)
    return calls


def _call_start(call: _Call) -> int:
    return call.start


def _name_before(text: str, dot: int) -> str | None:
    """The plain name right before ``dot`` (``op`` in ``op.add_column``); None for ``x.op``."""
    if text.startswith("op", dot - 2) and (dot == 2 or text[dot - 3] in " \t\n(=,;:"):
        return "op"  # the common case, without the loop below
    end = dot
    while end > 0 and text[end - 1] in " \t":
        end -= 1
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    if start == end or text[start].isdigit() or (start > 0 and text[start - 1] == "."):
        return None
    return text[start:end]


def _is_table_constructor(text: str, letter: int) -> bool:
    """``Table(`` / ``table(`` alone or as ``sa.`` / ``sqlalchemy.`` attribute, not ``create_table(``."""
    if letter == 0:
        return True
    before = text[letter - 1]
    if before == ".":
        return _name_before(text, letter - 1) in ("sa", "sqlalchemy")
    return not (before.isalnum() or before == "_")


def _touches_of_call(
    text: str, call: _Call, segment_end: int, batches: list[tuple[int, str, str]], found: set[str]
) -> None:
    if call.method == "Table":
        found.add(f"table:{call.table}")
    elif call.method == "execute":
        found.update(f"table:{t}" for t in _execute_tables(text, call.end))
    elif call.obj == "op":
        _op_touches(text, call, segment_end, found)
    elif call.obj is not None:
        table = _batch_table(batches, call.obj, call.start)
        if table is not None:
            _batch_touches(text, call, segment_end, table, found)


def _op_touches(text: str, call: _Call, segment_end: int, found: set[str]) -> None:
    method = call.method
    args = _OP_PATTERNS[method].match(text, call.end)
    groups = args.groupdict() if args else {}
    table = groups.get("t")
    if table is None and method not in ("create_table", "drop_table", "rename_table"):
        keyword = _TABLE_NAME_KW.search(text, call.end, segment_end)
        table = keyword.group("t") if keyword else None
    for name in (table, groups.get("t2")):
        if name:
            found.add(f"table:{name}")
    _named_touches(table, groups, found)
    _renamed_column(text, call, segment_end, table, found)


def _batch_touches(text: str, call: _Call, segment_end: int, table: str, found: set[str]) -> None:
    found.add(f"table:{table}")
    pattern = _BATCH_PATTERNS.get(call.method)
    args = pattern.match(text, call.end) if pattern else None
    groups = args.groupdict() if args else {}
    if groups.get("t2"):
        found.add(f"table:{groups['t2']}")
    _named_touches(table, groups, found)
    _renamed_column(text, call, segment_end, table, found)


def _renamed_column(text: str, call: _Call, segment_end: int, table: str | None, found: set[str]) -> None:
    """``alter_column(..., new_column_name='c')`` touches the new name as well."""
    if call.method == "alter_column" and table:
        renamed = _NEW_COLUMN_KW.search(text, call.end, segment_end)
        if renamed:
            found.add(f"column:{table}.{renamed.group('c')}")


def _named_touches(table: str | None, groups: Mapping[str, str | None], found: set[str]) -> None:
    if groups.get("c") and table:
        found.add(f"column:{table}.{groups['c']}")
    if groups.get("ix"):
        found.add(f"index:{groups['ix']}")
    if groups.get("n"):
        found.add(f"constraint:{groups['n']}")


def _execute_tables(text: str, pos: int) -> list[str]:
    args = _EXECUTE_ARG.match(text, pos)
    if args is None:
        return []
    sql = "".join(
        next(g for g in m.group("a", "b", "c", "d") if g is not None)
        for m in _STR_LITERAL_RE.finditer(args.group("sql"))
    )
    return _sql_tables(sql)


def _sql_tables(sql: str) -> list[str]:
    """Tables a literal SQL statement writes to (schema dropped, quoting removed)."""
    tables = []
    for match in _SQL_TABLE.finditer(sql):
        last = re.split(r"\s*\.\s*", match.group("name"))[-1].strip('"`[]')
        if last and last.lower() not in _SQL_NOT_A_TABLE:
            tables.append(last)
    return tables


# ============================================================== fingerprint
_TOKEN = re.compile(
    r"""(?P<string>[rRbBuUfF]{0,2}(?:'''(?:[^'\\]|\\[\s\S]|'(?!''))*'''|\"\"\"(?:[^"\\]|\\[\s\S]|"(?!""))*\"\"\""""
    r"""|'(?:[^'\\\n]|\\[\s\S])*'|"(?:[^"\\\n]|\\[\s\S])*"))"""
    r"|(?P<comment>#[^\n]*)|(?P<continuation>\\\n)|(?P<newline>\n)|(?P<space>[ \t\f]+)"
    r"|(?P<word>\w+)|(?P<other>\S)"
)
_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")


def _token_stream(text: str) -> str:
    """Tokens joined by NUL, with logical newlines and indent/dedent markers.

    Newlines inside brackets and indentation widths are whitespace; the block
    structure (which statement is inside which) is not.
    """
    text = _NEWLINE_TEXT.sub("\n", text)
    out: list[str] = []
    depth = 0
    indents = [0]
    line_start = 0
    at_line_start = True
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("comment", "continuation", "space"):
            continue
        if kind == "newline":
            if depth == 0 and not at_line_start:
                out.append("\n")
                at_line_start = True
            line_start = match.end()
            continue
        token = match.group()
        if at_line_start and depth == 0:
            _mark_indent(match.start() - line_start, indents, out)
            at_line_start = False
        if token in _OPENERS:
            depth += 1
        elif token in _CLOSERS:
            depth = max(0, depth - 1)
        out.append(token)
    return "\x00".join(out)


def _mark_indent(width: int, indents: list[int], out: list[str]) -> None:
    if width > indents[-1]:
        indents.append(width)
        out.append("\x01INDENT")
    while width < indents[-1]:
        indents.pop()
        out.append("\x01DEDENT")
