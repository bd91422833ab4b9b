#!/usr/bin/env bash
# Protos: `buf lint` with the STANDARD rules, and `buf breaking` against the last release's
# protos (proto/releases/<version>.binpb, a buf image). A new release adds its image there and
# moves BASELINE. Needs buf in .tools (scripts/ensure_tools.sh installs it from npm).
set -euo pipefail
cd "$(dirname "$0")/.."
BUF=.tools/node_modules/.bin/buf
BASELINE=proto/releases/v0.1.0.binpb
if [ ! -x "$BUF" ]; then
  echo "buf is missing: scripts/ensure_tools.sh installs it from npm (@bufbuild/buf)" >&2
  exit 1
fi
echo "== buf lint (STANDARD)"
"$BUF" lint
echo "== buf breaking against $BASELINE (WIRE_JSON)"
"$BUF" breaking --against "$BASELINE"
echo "protos: lint clean, compatible with $BASELINE"
