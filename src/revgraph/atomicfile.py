"""Writing revgraph's own cache files: whole or not at all, never fatal.

Used by the parse and result caches, the merge driver's facts index and memo,
and the express lane's tickets. Standard library only (the express lane and
the merge driver import it on their fast paths).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path | str, data: bytes) -> bool:
    """Write ``data`` to ``path`` through a temp file beside it + rename; False on failure.

    A concurrent reader sees the old file or the new one, never a part; a
    full disk or a read-only folder only means the file is not written.
    """
    folder, name = os.path.split(os.fspath(path))
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    except OSError:
        return False
    replaced = False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        replaced = True
    except OSError:
        pass  # the cache just is not persisted
    finally:
        if not replaced:  # also on KeyboardInterrupt: leave no temp file behind
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return replaced


def keep_newest(folder: Path | str, suffix: str, keep: int) -> None:
    """Delete all but the ``keep`` most recently written ``*suffix`` files in ``folder``.

    Best effort: a file another process removed first, or an unreadable
    folder, is skipped.
    """
    try:
        names = [name for name in os.listdir(folder) if name.endswith(suffix)]
    except OSError:
        return
    if len(names) <= keep:
        return
    dated = []
    for name in names:
        try:
            dated.append((os.stat(os.path.join(folder, name)).st_mtime_ns, name))
        except OSError:
            continue
    dated.sort(reverse=True)
    for _, name in dated[keep:]:
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass
