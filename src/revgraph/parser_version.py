"""The static reader's version, in a module of its own.

The parse cache is keyed by it; a warm run must learn it without importing
``revgraph.parse`` (and compiling its regexes) only to read a number. Bump it
whenever the reader's results change for any input.
"""

# 2: ``touches`` left empty (read on demand with ``upgrade_touches``); the template reader.
# 3: ``ignores`` read from comments only, not from string literals.
# 4: ``ignore_lines``, the line of each ignore comment's codes.
# 5: an empty ``ignore[]`` kept as the selector "" (RG404 reports it).
# 6: a file not valid UTF-8 without a coding line says why alembic cannot load it either.
# 7: names bound by `:=`, `global`, exec/eval, globals()/vars(), `del`, `except as` and
#    `case` are problems; ids base/head/heads too; a set is read as its items, (None,) as None;
#    blocks under `if TYPE_CHECKING:` / `if __name__ == "__main__":` are skipped.
# 8: `global` / exec / eval in a function count only when it may run at import (its name
#    occurs elsewhere, a decorator, a dunder); builtins.exec, `run = exec`, setattr() of a
#    key, locals() and sys.modules[__name__] writes are problems too; names spelled with
#    characters NFKC makes ASCII (`ｅｘｅｃ`) are read as Python reads them.
# 9: a function may run at import only when code run at import names it, directly or
#    through functions it names (a helper only upgrade() calls does not).
# 10: `sys.modules` handed on at import, exec & co. taken from the builtins by getattr(),
#     vars() or __dict__, frame and function namespaces (f_globals, __globals__), and a
#     `from x import *` or module __getattr__ that may supply a name are problems too.
# 11: a module __getattr__ bound by a top-level `for`/`with` target, `:=`, a `case` capture,
#     `global`, or a write that names it (globals()[...], setattr(), .update(), an attribute).
# 12: a coding cookie is read from lines 1-2 whole (not their first 400 bytes); `if
#     TYPE_CHECKING:` / `if __name__ == "__main__":` are skipped only when the file does
#     not bind the name itself; methods, dunders and decorated functions are followed
#     into what they call; `.exec()`/`.eval()` on anything, a computed callee and
#     getattr() by a computed name at import are problems; annotations nest brackets once.
# 13: a guard is not trusted in a file that may bind its name unseen (globals(), setattr(),
#     sys.modules, __dict__, a star import, the builtins module); methods of a class made
#     from a base or metaclass may run at import (Enum's _generate_next_value_).
PARSER_VERSION: int = 13
