#!/usr/bin/env bash
# The extension's version is pg_ingest.control's default_version (X.Y); the other places that
# state it must agree: CHANGELOG.md's newest section ("## [X.Y]"), META.json (X.Y.0, as PGXN's
# semantic versions, for the distribution and for the extension it provides) and
# debian/changelog's newest entry (X.Y-N). Prints each and exits non-zero on any disagreement.
set -euo pipefail
cd "$(dirname "$0")/.."

control=$(sed -n "s/^default_version = '\(.*\)'/\1/p" pg_ingest.control)
changelog=$(sed -n 's/^## \[\([^]]*\)\].*/\1/p' CHANGELOG.md | head -n 1)
meta=$(python3 -c 'import json, sys; m = json.load(open("META.json"))
print(m["version"], m["provides"]["pg_ingest"]["version"])')
debian=$(sed -n '1s/^pg-ingest (\([^)]*\)).*/\1/p' debian/changelog)

failed=0
expect() { # expect WHERE WANTED FOUND
    if [ "$2" = "$3" ]; then
        echo "$1: $3"
    else
        echo "$1: $3, but pg_ingest.control says $control (wanted $2)" >&2
        failed=1
    fi
}
echo "pg_ingest.control: $control"
expect "CHANGELOG.md" "$control" "$changelog"
expect "META.json (version, provides)" "$control.0 $control.0" "$meta"
expect "debian/changelog" "$control" "${debian%-*}"
exit "$failed"
