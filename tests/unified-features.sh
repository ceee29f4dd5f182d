#!/usr/bin/env bash
# Checks that every package of the workspace, built on its own (`cargo build -p`, maturin),
# sees its dependencies with the same features as the whole workspace with its tests.
# When it does not, cargo compiles wasmtime and cranelift once more for that build; the
# fix is the line this script prints, added to workspace-hack/Cargo.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

features() {
    cargo tree --locked --offline "$@" -f '{p} [{f}]' --prefix none \
        | sed 's/ (\*)$//' | grep -v '^pitstop-\|^workspace-hack ' | sort -u
}

whole=$(mktemp)
alone=$(mktemp)
trap 'rm -f "$whole" "$alone"' EXIT
features --workspace -e normal,build,dev >"$whole"
status=0
for package in pitstop-core pitstop-ffi pitstop-python pitstop-cli pitstop-1c; do
    features -p "$package" -e normal,build >"$alone"
    differing=$(comm -13 "$whole" "$alone")
    if [ -n "$differing" ]; then
        echo "$package built alone sees other features than the workspace:" >&2
        echo "$differing" | sed 's/^/  /' >&2
        echo "the workspace has:" >&2
        grep -F -f <(echo "$differing" | cut -d' ' -f1,2) "$whole" | sed 's/^/  /' >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "one feature set: every package built alone matches the workspace"
exit $status
