#!/usr/bin/env bash
# The packaging test: what a newcomer gets from the registry. Packs every package as it would be
# published, checks each tarball (LICENSE, README, every file its `exports` map names), installs
# the tarballs with plain npm into a fresh app outside the workspace, compiles that app with
# TypeScript strict / nodenext / skipLibCheck false, and runs
#   - the README's usage example, extracted from README.md (so the README cannot drift), as ESM;
#   - a CommonJS app that records, queries and serves over Express;
#   - `npx eventlog --help` from the installed @eventlog/cli.
# Fails on a missing file in a tarball, a wrong exports entry, a missing peer, or a README example
# that no longer compiles or runs.
#
#   bash test/packaging/run.sh        (or `pnpm run test:packaging`; builds first)
#   EVENTLOG_PACKAGING_NO_BUILD=1     skip the build (CI has just built)
#   EVENTLOG_PACKAGING_KEEP=1         keep the temporary directory for a look
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/test/packaging"
PNPM=(npx -y pnpm@10.34.8)
work=$(mktemp -d "${TMPDIR:-/tmp}/eventlog-packaging.XXXXXX")
cleanup() { if [[ -z "${EVENTLOG_PACKAGING_KEEP:-}" ]]; then rm -rf "$work"; else echo "kept $work"; fi; }
trap cleanup EXIT
step() { printf '\n--- %s\n' "$*"; }

if [[ -z "${EVENTLOG_PACKAGING_NO_BUILD:-}" ]]; then
  step "build"
  (cd "$root" && "${PNPM[@]}" build >/dev/null)
fi

step "pack"
mkdir -p "$work/tarballs"
for dir in "$root"/packages/*/; do
  [[ -f "$dir/package.json" ]] || continue
  [[ "$(node -p "require('$dir/package.json').private === true")" == true ]] && continue
  # pnpm pack rewrites workspace:* ranges to the real versions, as pnpm publish does.
  (cd "$dir" && "${PNPM[@]}" pack --pack-destination "$work/tarballs" >/dev/null)
done
ls "$work/tarballs"

step "tarball contents"
node "$here/check-tarballs.mjs" "$work/tarballs"

step "install into a fresh app with npm"
app="$work/app"
mkdir -p "$app/src"
node "$here/app-manifest.mjs" "$root" "$work/tarballs" >"$app/package.json"
cp "$here/app/tsconfig.json" "$app/tsconfig.json"
cp "$here/app/commonjs.cts" "$app/src/commonjs.cts"
node "$here/extract-readme.mjs" "$root/README.md" >"$app/src/readme.mts"
(cd "$app" && npm install --no-audit --no-fund --loglevel=error)

step "compile (strict, nodenext, skipLibCheck false)"
(cd "$app" && npx --no-install tsc -p tsconfig.json)

step "run the README's usage example (ESM)"
(cd "$app" && node dist/readme.mjs >readme.out)
head -n 3 "$app/readme.out"
grep -q '^"id","time"\|^id,time' "$app/readme.out" || {
  echo "the README example printed no CSV export:" >&2
  cat "$app/readme.out" >&2
  exit 1
}

step "run the CommonJS app"
(cd "$app" && node dist/commonjs.cjs)

step "the eventlog command from the installed @eventlog/cli"
(cd "$app" && npx --no-install eventlog --help >help.out)
grep -q 'import' "$app/help.out" || {
  echo "eventlog --help did not list its commands:" >&2
  cat "$app/help.out" >&2
  exit 1
}
head -n 3 "$app/help.out"

echo
echo "packaging test passed"
