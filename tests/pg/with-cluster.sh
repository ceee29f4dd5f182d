#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL cluster: starts it in DIR, exports
# PITSTOP_TEST_POSTGRES (the libpq connection string) and PITSTOP_TEST_PG_DIR (for the
# restart test), runs the command, and stops the cluster however the command ends.
set -euo pipefail
dir=${1:?usage: with-cluster.sh DIR COMMAND...}
shift
here=$(cd "$(dirname "$0")" && pwd)
trap '"$here/cluster.sh" stop "$dir" >/dev/null 2>&1 || true' EXIT
PITSTOP_TEST_POSTGRES=$("$here/cluster.sh" start "$dir")
export PITSTOP_TEST_POSTGRES
export PITSTOP_TEST_PG_DIR="$dir"
echo "PostgreSQL for the tests: $PITSTOP_TEST_POSTGRES" >&2
"$@"
