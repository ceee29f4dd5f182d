#!/usr/bin/env bash
# Runs a cargo command and fails when it fails or when it printed any warning or error.
# The Makefile builds the workspace through clippy-driver (RUSTC_WORKSPACE_WRAPPER), so
# clippy's lints and rustc's warnings come out of the build itself; cargo replays a
# cached crate's warnings, so a crate built earlier (by `make demo`) is judged too.
set -euo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
if grep -qE '^(warning|error)(\[[^]]*\])?:' "$log"; then
    echo "no-warnings.sh: the build above printed warnings; fix them (they are clippy's or rustc's): $*" >&2
    exit 1
fi
