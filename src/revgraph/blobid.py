"""git's object id of a file's content, as the repository's object format makes it.

A repository made with ``git init --object-format=sha256`` (the default for
new repositories from Git 3.0) names every object by SHA-256. revgraph
hashes working-tree files itself, to key its caches and to tell an unchanged
file from an edited one without asking git: the ids must be the ones git
would give the same bytes, or no file on disk ever equals a committed one.

Light on purpose: the merge driver and the result cache's key import it.
"""

from __future__ import annotations

import hashlib

SHA1, SHA256 = "sha1", "sha256"
_DIGESTS = {SHA1: hashlib.sha1, SHA256: hashlib.sha256}


def blob_id(data: bytes, object_format: str = SHA1) -> str:
    """The id git gives a blob holding ``data`` (``git hash-object``)."""
    return _DIGESTS[object_format](b"blob %d\0" % len(data) + data).hexdigest()


def object_id(kind: bytes, body: bytes, object_format: str = SHA1) -> str:
    """The id git gives an object of ``kind`` (``b"tree"``, ...) whose content is ``body``."""
    return _DIGESTS[object_format](b"%s %d\0" % (kind, len(body)) + body).hexdigest()


def object_format_of(answer: str) -> str:
    """The format ``git rev-parse --show-object-format`` answered (SHA-1 for anything else)."""
    return SHA256 if answer.strip() == SHA256 else SHA1


def format_of_id(oid: str) -> str:
    """The object format an id of git's is written in, by its length."""
    return SHA256 if len(oid) == 64 else SHA1
