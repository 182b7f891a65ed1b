#!/usr/bin/env bash
# Run the test suite against the lowest versions pyproject.toml allows, so that a
# floor is a version the suite passed with, not a guess. Everything else (click,
# SQLAlchemy, the test tools) comes at its newest, as pip would pair them.
#
#   bash scripts/test_lowest.sh [VENV_DIR] [pytest args...]
#
# Takes ~5 minutes (the whole suite). Not part of .ci/run: it needs a second venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-${TMPDIR:-/tmp}/revgraph-lowest}"
shift || true
python3 -m venv "$venv"
# The floors, read from pyproject.toml's ">=" pins of the runtime dependencies.
floors=$(python3 - <<'PY'
import re, sys
try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
with open("pyproject.toml", "rb") as handle:
    deps = tomllib.load(handle)["project"]["dependencies"]
for dep in deps:
    if ";" in dep:
        continue  # an environment marker (tomli on 3.10): its newest is fine
    found = re.match(r"^([A-Za-z0-9_.-]+)>=([^,\s]+)", dep)
    if found:
        print(f"{found[1]}=={found[2]}")
PY
)
"$venv/bin/pip" install -q $floors
"$venv/bin/pip" install -q -e '.[test]' $floors
"$venv/bin/pip" list 2>/dev/null | grep -i -E "^(alembic|gitpython|networkx|typer|rich|click|sqlalchemy) "
exec "$venv/bin/python" -m pytest -q "$@"
