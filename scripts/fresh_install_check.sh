#!/usr/bin/env bash
# A new user's first minute, checked: clone this repository, create a fresh
# virtualenv, and run the README's first line (install + `revgraph demo`) in it.
#
#   scripts/fresh_install_check.sh [WORKDIR]
#
# WORKDIR (default: a temporary folder, removed afterwards) receives clone/
# and venv/. The clone holds only committed files: anything the install or the
# demo needs that was never committed makes this fail, as it would for a user.
# The virtualenv uses --system-site-packages so that dependencies already
# installed (alembic, rich, ...) are reused instead of downloaded; pip still
# builds and installs revgraph itself from the clone, into the virtualenv.
# That pip is the system's, seen through those packages (--without-pip: a
# copy of pip installed into the virtualenv was half of this script's time).
#
# Exit status: that of the README line; 77 when no virtualenv can be created
# here (python3 -m venv unavailable), so callers can skip.
set -euo pipefail

python="${PYTHON:-python3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

work="${1:-}"
if [ -z "$work" ]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/revgraph-fresh.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
work="$(cd "$work" && pwd -P)"  # the path Python will report, symlinks resolved

# The first non-empty line of README.md's first fenced code block.
line="$(awk '/^```/ { if (inside) exit; inside = 1; next } inside && NF { print; exit }' "$root/README.md")"
if [ -z "$line" ]; then
  echo "fresh-install: README.md has no command in its first code block" >&2
  exit 2
fi

echo "fresh-install: cloning $root"
git clone -q "$root" "$work/clone"

echo "fresh-install: creating a virtualenv in $work/venv"
if ! "$python" -m venv --system-site-packages --without-pip "$work/venv"; then
  echo "fresh-install: cannot create a virtualenv with $python (venv missing)" >&2
  exit 77
fi
if ! "$work/venv/bin/python" -c "import pip" 2>/dev/null; then
  # No pip among the system's packages: the virtualenv gets its own.
  rm -rf "$work/venv"
  "$python" -m venv --system-site-packages "$work/venv" || exit 77
fi

# As a user with that virtualenv activated; nothing points back at this checkout.
export VIRTUAL_ENV="$work/venv"
export PATH="$work/venv/bin:$PATH"
unset PYTHONPATH PYTHONHOME PIP_REQUIRE_VIRTUALENV GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE || true
cd "$work/clone"

echo "fresh-install: running README line 1: $line"
bash -c "$line"

where="$(python3 -c 'import revgraph; print(revgraph.__file__)')"
case "$where" in
  "$work/venv/"*) echo "fresh-install: revgraph ran from the new virtualenv ($where)" ;;
  *)
    echo "fresh-install: revgraph was imported from $where, not from the new virtualenv" >&2
    exit 1
    ;;
esac
