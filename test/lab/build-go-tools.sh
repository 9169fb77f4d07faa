#!/usr/bin/env bash
# Builds the lab's real programs from the Go module proxy, once per version, into the lab cache:
#   tailscaled + the tailscale CLI (one multi-call binary, as tailscale's own builds with ts_include_cli)
#   headscale, the control server the lab's machines join
#   the Pulumi CLI, the engine the tool's Automation API code drives
# Each lands in $CACHE/bin/<name>-<version>/ with a stamp; the Go module and build caches stay in $CACHE/go, so a
# new version rebuilds in seconds to a minute. Figures and pitfalls: ../shared/notes/real-tailnet.md.
# Usage: build-go-tools.sh [tailscale|headscale|pulumi ...] (default: all three)
set -euo pipefail
CACHE="${PEER_LAB_CACHE:-/var/cache/peer-provision-lab}"
TAILSCALE_VERSION="${PEER_LAB_TAILSCALE_VERSION:-1.102.5}"
HEADSCALE_VERSION="${PEER_LAB_HEADSCALE_VERSION:-0.29.2}"
PULUMI_VERSION="${PEER_LAB_PULUMI_VERSION:-3.248.0}"   # the version of our @pulumi/pulumi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build"
command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null 2>&1 || { echo "build-go-tools.sh: Go is needed (https://go.dev/dl)" >&2; exit 1; }

FIRST_TIME="(the first time: the three side by side take about 18 minutes on 2 cores)"

# built <dir>: the binaries there are complete (the stamp is written last)
built() { [ -f "$1/.built" ]; }

# A wrapper module: `go install pkg@version` asks the proxy for the module's version list, which it refuses for
# these modules; a go.mod that requires the exact version does not.
wrapper() { # wrapper <dir> <module> <version> <package> [replace...]
  local dir="$1" module="$2" version="$3" package="$4"; shift 4
  mkdir -p "$dir" && cd "$dir"
  [ -f go.mod ] || go mod init peer-provision-lab/build >/dev/null 2>&1
  go mod edit -require "$module@$version"
  for r in "$@"; do go mod edit -replace "$r"; done
  printf '//go:build tools\n\npackage build\n\nimport _ "%s"\n' "$package" > tools.go
  go mod tidy > tidy.log 2>&1 || { tail -n 20 tidy.log >&2; return 1; }
}

build_tailscale() {
  local out="$CACHE/bin/tailscale-$TAILSCALE_VERSION"
  built "$out" && return 0
  echo "build-go-tools.sh: tailscaled + tailscale $TAILSCALE_VERSION $FIRST_TIME"
  wrapper "$CACHE/go/src/tailscale-$TAILSCALE_VERSION" tailscale.com "v$TAILSCALE_VERSION" tailscale.com/cmd/tailscaled
  # stamped as release builds are (tailscale's build_dist.sh), so `tailscale version` prints what users see
  go build -tags ts_include_cli -o "$out/tailscaled" \
    -ldflags "-s -w -X tailscale.com/version.longStamp=$TAILSCALE_VERSION-lab -X tailscale.com/version.shortStamp=$TAILSCALE_VERSION" \
    tailscale.com/cmd/tailscaled
  ln -sf tailscaled "$out/tailscale"
  touch "$out/.built"
}

build_headscale() {
  local out="$CACHE/bin/headscale-$HEADSCALE_VERSION"
  built "$out" && return 0
  echo "build-go-tools.sh: headscale $HEADSCALE_VERSION $FIRST_TIME"
  wrapper "$CACHE/go/src/headscale-$HEADSCALE_VERSION" github.com/juanfont/headscale "v$HEADSCALE_VERSION" github.com/juanfont/headscale/cmd/headscale
  go build -o "$out/headscale" -ldflags "-s -w" github.com/juanfont/headscale/cmd/headscale
  touch "$out/.built"
}

build_pulumi() {
  local out="$CACHE/bin/pulumi-$PULUMI_VERSION"
  built "$out" && return 0
  echo "build-go-tools.sh: the Pulumi CLI $PULUMI_VERSION $FIRST_TIME"
  # pulumi's own go.mod replaces atotto/clipboard; a wrapper module must say so too
  wrapper "$CACHE/go/src/pulumi-$PULUMI_VERSION" github.com/pulumi/pulumi/pkg/v3 "v$PULUMI_VERSION" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
  go build -tags osusergo,grpcnotrace -o "$out/pulumi" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  touch "$out/.built"
}

# The builds run side by side: each spends much of its time on things other than the compiler (fetching modules,
# `go mod tidy`, the single-threaded link), which the others fill. Each logs to its own file; a failure shows its tail.
mkdir -p "$CACHE/go"
# who is building: what needs a program waits while this runs (test/lab/go-builds.ts)
echo "$$" > "$CACHE/.go-builds.pid"
pids=() names=()
for t in ${*:-tailscale headscale pulumi}; do
  ( started=$(date +%s); "build_$t"; echo "build-go-tools.sh: $t ready ($(( $(date +%s) - started )) s)" ) > "$CACHE/go/build-$t.log" 2>&1 &
  pids+=("$!") names+=("$t")
done
failed=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    grep '^build-go-tools.sh:' "$CACHE/go/build-${names[$i]}.log" || true
  else
    echo "build-go-tools.sh: building ${names[$i]} failed; the end of $CACHE/go/build-${names[$i]}.log:" >&2
    tail -n 30 "$CACHE/go/build-${names[$i]}.log" >&2
    failed=1
  fi
done
exit "$failed"
