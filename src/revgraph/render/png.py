"""PNG through Graphviz's ``dot``: the one graph format that needs an outside program."""

from __future__ import annotations

import shutil
import subprocess

from revgraph.errors import RevgraphError, UsageError

DOT_TIMEOUT = 120  # seconds; a picture of a huge history is slow, not stuck


def render_png(dot_source: str) -> bytes:
    """Run ``dot -Tpng`` on ``dot_source`` and return the image."""
    dot = shutil.which("dot")
    if dot is None:
        raise UsageError("PNG output needs Graphviz's `dot`; install graphviz or use --format svg")
    try:
        done = subprocess.run(
            [dot, "-Tpng"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RevgraphError(f"Graphviz `dot` could not draw the PNG: {exc}") from exc
    if done.returncode != 0 or not done.stdout:
        reason = done.stderr.decode("utf-8", "replace").strip() or f"exit code {done.returncode}"
        raise RevgraphError(f"Graphviz `dot` could not draw the PNG: {reason}")
    return done.stdout
