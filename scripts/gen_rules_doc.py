"""Write docs/rules.md from the rule catalogue (src/revgraph/rules.py).

    python scripts/gen_rules_doc.py           # rewrite docs/rules.md
    python scripts/gen_rules_doc.py --check   # exit 1 if docs/rules.md is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from revgraph.render.markdown import render_rules_doc
from revgraph.rules import RULES

DOC = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    parser.add_argument("--output", type=Path, default=DOC)
    args = parser.parse_args(argv)
    wanted = render_rules_doc(RULES.values())
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    if args.check:
        if current != wanted:
            print(f"{args.output} is stale: run python scripts/gen_rules_doc.py", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        # newline="\n": the committed file is byte-identical on every platform.
        args.output.write_text(wanted, encoding="utf-8", newline="\n")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
