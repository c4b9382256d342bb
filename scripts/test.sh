#!/usr/bin/env bash
# `npm test`: every test of the project. Installs what is missing (scripts/ensure-deps.sh), type-checks
# the whole tree, checks the import rules (.dependency-cruiser.cjs) and the generated OpenAPI
# document (redocly.yaml), then runs jest (unit, infra, integration, XKS conformance, end-to-end).
# jest's globalSetup starts DynamoDB Local and a SoftHSM2 token folder for the run.
# Arguments go to jest: `npm test -- test/unit`, `npm test -- -t 'rotate'`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-deps.sh

echo "test.sh: type-checking (tsc --noEmit)" >&2
npx tsc --noEmit

echo "test.sh: import rules (dependency-cruiser, .dependency-cruiser.cjs)" >&2
npx depcruise lambdas lib bin scripts --config .dependency-cruiser.cjs --output-type err

echo "test.sh: OpenAPI document (Redocly's recommended rules, redocly.yaml)" >&2
openapi="$(mktemp --suffix=.json)"
npx tsx scripts/openapi.ts >"$openapi"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx redocly lint "$openapi" --format=stylish
rm -f "$openapi"

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
status=0
npx jest --json --outputFile="$results" "$@" || status=$?

# One plain closing line with the counts, whatever reporter jest used.
node -e '
  const fs = require("fs");
  try {
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
  } catch { /* jest stopped before writing results; its own output says why */ }
' "$results"
exit "$status"
