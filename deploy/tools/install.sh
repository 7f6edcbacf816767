#!/usr/bin/env bash
# Builds the Go tools the tests use into .tools/bin (cached: skipped when already built), from the Go
# module proxy: promtool (Prometheus 2.54.1, to lint deploy/prometheus/defwatch-rules.yml).
# A tool that cannot be built is reported and skipped; the test that needs it says so in its skip reason.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="$ROOT/.tools/bin"
mkdir -p "$BIN"

if ! command -v go >/dev/null 2>&1; then
  echo "tools: no Go toolchain; promtool not built (rules are still parsed by the tests)" >&2
  exit 0
fi

build_promtool() {
  local version=v0.54.1  # the Go module version of Prometheus 2.54.1
  [ -x "$BIN/promtool" ] && return 0
  echo "tools: building promtool (Prometheus ${version}) from the Go module proxy; first time only, a few minutes" >&2
  local dir
  # `go install pkg@version` refuses modules with replace directives: build inside the downloaded module.
  dir="$(GOFLAGS=-mod=mod go mod download -json "github.com/prometheus/prometheus@${version}" \
         | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')" || return 1
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -o "$BIN/promtool" ./cmd/promtool) || return 1
}

build_promtool || echo "tools: promtool could not be built; the rules test will name it as skipped" >&2
exit 0
