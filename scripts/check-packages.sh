#!/usr/bin/env bash
# Checks what each publishable package would ship: publint (package.json and files) and
# are-the-types-wrong (types resolve for ESM, CJS, node10 and bundlers). Run after `pnpm build`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/node_modules/.bin"
for dir in "$root"/packages/*/; do
  [ -f "$dir/package.json" ] || continue
  name=$(node -p "require('$dir/package.json').name")
  echo "--- $name"
  (cd "$dir" && "$bin/publint" --pack npm --strict && "$bin/attw" --pack . --quiet)
done
