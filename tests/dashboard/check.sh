#!/usr/bin/env bash
# The owner's dashboard as a person sees it, in Debian's headless Chromium (installed
# when missing, as tests/pg/cluster.sh installs PostgreSQL): a small demo shop is built
# with the given `pitstop` binary, its dashboard written twice (by `pitstop demo` beside
# the store, and by `pitstop report STORE dashboard --html FILE` for one year), and each
# page is loaded with every host name unresolvable, so anything it tried to fetch would
# fail. The check fails when a chart is missing or empty (check_dom.py counts the marks
# of each chart in the DOM Chromium built) or when the browser logged any console
# message (the page has no script, so any message is an error: a blocked fetch, bad
# markup in an SVG). A page with a known console error is checked first, so a detector
# that sees nothing fails. The screenshots stay in OUT as the test's artifacts.
#
#   tests/dashboard/check.sh PITSTOP_BINARY OUT_DIR
set -euo pipefail

pitstop=${1:?usage: check.sh PITSTOP_BINARY OUT_DIR}
out=${2:?usage: check.sh PITSTOP_BINARY OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)

find_chromium() {
    command -v chromium || command -v chromium-browser || true
}

browser=$(find_chromium)
if [ -z "$browser" ]; then
    if command -v apt-get >/dev/null; then
        echo "installing chromium (Debian package)" >&2
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
        browser=$(find_chromium)
    fi
fi
[ -n "$browser" ] || { echo "Chromium not found: install the chromium package" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Headless, offline (every host name fails to resolve), console messages on stderr.
chrome() {
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-dev-shm-usage --host-resolver-rules="MAP * ~NOTFOUND" \
        --user-data-dir="$out/profile" --enable-logging=stderr --v=0 "$@"
}

# The console messages of a page's load, one per line (none: empty output).
console_of() {
    local page=$1 log=$2
    chrome --dump-dom "file://$page" >"$log.dom" 2>"$log" || true
    grep -E 'CONSOLE|Uncaught|Failed to load resource' "$log" || true
}

# The detector itself: a page with a console error and a fetch that fails must be seen.
cat >"$out/broken.html" <<'HTML'
<!DOCTYPE html><html><body><img src="http://example.invalid/x.png">
<script>console.error("broken on purpose")</script></body></html>
HTML
if [ -z "$(console_of "$out/broken.html" "$out/broken.log")" ]; then
    echo "the console check saw nothing on a page with a console error: it cannot fail" >&2
    cat "$out/broken.log" >&2
    exit 1
fi

# A small shop: two years of history, the demo writes its dashboard beside the store.
"$pitstop" demo "$out/store" --customers 300 --years 2 --json >"$out/demo.json"
"$pitstop" report "$out/store" dashboard --html "$out/year.html" --from 2024-12-01 --to 2025-12-01 --date 2025-12-01

status=0
for page in "$out/store-dashboard.html" "$out/year.html"; do
    name=$(basename "$page" .html)
    console=$(console_of "$page" "$out/$name.log")
    if [ -n "$console" ]; then
        echo "$name: the browser logged console messages:" >&2
        echo "$console" >&2
        status=1
    fi
    python3 "$here/check_dom.py" "$page" "$out/$name.log.dom" || status=1
    chrome --screenshot="$out/$name.png" --window-size=1200,5200 --hide-scrollbars \
        "file://$page" 2>/dev/null || true
    if [ "$(stat -c %s "$out/$name.png" 2>/dev/null || echo 0)" -lt 20000 ]; then
        echo "$name: no screenshot (or a blank one) at $out/$name.png" >&2
        status=1
    fi
done
rm -rf "$out/profile" "$out/store"
[ $status -eq 0 ] && echo "dashboard: every chart drawn, no console message; screenshots in $out"
exit $status
