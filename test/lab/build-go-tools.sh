#!/usr/bin/env bash
# Builds the lab's real programs from the Go module proxy, once per version, into the lab cache:
#   tailscaled + the tailscale CLI (one multi-call binary, as tailscale's own builds with ts_include_cli)
#   headscale, the control server the lab's machines join
#   the Pulumi CLI, the engine the tool's Automation API code drives
# Each lands in $CACHE/bin/<name>-<version>/ with a stamp; the Go module and build caches stay in $CACHE/go, so a
# new version rebuilds in seconds to a minute. Figures and pitfalls: ../shared/notes/real-tailnet.md.
# Usage: build-go-tools.sh [--background] [tailscale|headscale|pulumi ...] (default: all three)
#   --background: at the lowest CPU priority, so that tests running meanwhile keep the CPU (prepare.sh
#   --go-in-background). Start it in a session of its own (setsid): see lowest_priority.
set -euo pipefail
background=0
[ "${1:-}" = --background ] && { background=1; shift; }
CACHE="${PEER_LAB_CACHE:-/var/cache/peer-provision-lab}"
TAILSCALE_VERSION="${PEER_LAB_TAILSCALE_VERSION:-1.102.5}"
HEADSCALE_VERSION="${PEER_LAB_HEADSCALE_VERSION:-0.29.2}"
PULUMI_VERSION="${PEER_LAB_PULUMI_VERSION:-3.248.0}"   # the version of our @pulumi/pulumi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build"
command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null 2>&1 || { echo "build-go-tools.sh: Go is needed (https://go.dev/dl)" >&2; exit 1; }

FIRST_TIME="(the first time only: minutes, bound by the CPU; cached after)"

# built <dir>: the binaries there are complete (the stamp is written last)
built() { [ -f "$1/.built" ]; }

# A wrapper module: `go install pkg@version` asks the proxy for the module's version list, which it refuses for
# these modules; a go.mod that requires the exact version does not.
#   wrapper <dir> <module@version:package>... [-- <replace old=new>...]
wrapper() {
  local dir="$1"; shift
  mkdir -p "$dir" && cd "$dir"
  [ -f go.mod ] || go mod init peer-provision-lab/build >/dev/null 2>&1
  printf '//go:build tools\n\npackage build\n\n' > tools.go
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    go mod edit -require "${1%%:*}"
    printf 'import _ "%s"\n' "${1#*:}" >> tools.go
    shift
  done
  [ "${1:-}" != -- ] || shift
  for r in "$@"; do go mod edit -replace "$r"; done
  go mod tidy > tidy.log 2>&1 || { tail -n 20 tidy.log >&2; return 1; }
}

# tailscaled and headscale in one module, built one after the other, so that what they share compiles once: the Go
# standard library, gVisor, x/net and most of tailscale's own packages (headscale is built on them). Measured on 2
# cores with empty caches: 680 s of CPU and 359 s against 1063 s and 558 s for two modules built side by side (each
# compiled its own copy of the 561 packages they share, the standard library too: two builds at once both miss the
# cache). tailscaled is built from exactly the module versions its own module graph selects (as `go install
# tailscale.com/cmd/tailscaled@version` would): each is pinned with a replace, which also gives headscale tailscale
# $TAILSCALE_VERSION's packages where it asks for an older tailscale; it is the lab's control server, not what is tested.
lab_module="$CACHE/go/src/lab-tailscale-$TAILSCALE_VERSION-headscale-$HEADSCALE_VERSION"
lab_wrapper() {
  [ -f "$lab_module/.ready" ] && { cd "$lab_module"; return 0; }
  wrapper "$CACHE/go/src/tailscale-$TAILSCALE_VERSION" "tailscale.com@v$TAILSCALE_VERSION:tailscale.com/cmd/tailscaled"
  local pins
  mapfile -t pins < <(go list -m -f '{{if not .Main}}{{.Path}}={{.Path}}@{{.Version}}{{end}}' all)
  wrapper "$lab_module" "tailscale.com@v$TAILSCALE_VERSION:tailscale.com/cmd/tailscaled" \
    "github.com/juanfont/headscale@v$HEADSCALE_VERSION:github.com/juanfont/headscale/cmd/headscale" -- "${pins[@]}"
  touch .ready
}

build_tailscale() {
  local out="$CACHE/bin/tailscale-$TAILSCALE_VERSION"
  built "$out" && return 0
  echo "build-go-tools.sh: tailscaled + tailscale $TAILSCALE_VERSION $FIRST_TIME"
  lab_wrapper
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
  lab_wrapper
  go build -o "$out/headscale" -ldflags "-s -w" github.com/juanfont/headscale/cmd/headscale
  touch "$out/.built"
}

pulumi_out="$CACHE/bin/pulumi-$PULUMI_VERSION"
pulumi_src="$CACHE/go/src/pulumi-$PULUMI_VERSION"
# The Pulumi CLI in two parts: its sources (the wrapper module, `go mod tidy`: mostly the network) and the compile.
fetch_pulumi() {
  built "$pulumi_out" && return 0
  echo "build-go-tools.sh: the Pulumi CLI $PULUMI_VERSION $FIRST_TIME"
  # pulumi's own go.mod replaces atotto/clipboard; a wrapper module must say so too
  wrapper "$pulumi_src" "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION:github.com/pulumi/pulumi/pkg/v3/cmd/pulumi" \
    -- github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
}
# Without the compiler's optimizations and inlining (-N -l): the same program, for a quarter less CPU to compile
# (measured on a 351-package build: 99 s against 131 s). The lab runs only a few Pulumi operations, whose time is
# mostly the Node program's and the plugins'. tailscale and headscale stay optimized: the tests and the bench time
# what goes through them.
compile_pulumi() {
  built "$pulumi_out" && return 0
  cd "$pulumi_src"
  go build -tags osusergo,grpcnotrace -gcflags='all=-N -l' -o "$pulumi_out/pulumi" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  touch "$pulumi_out/.built"
}

# job TOOL COMMAND...: in the background, logging to the tool's own file; its last line says it is ready.
pids=() names=()
job() {
  local tool="$1"; shift
  ( started=$(date +%s); "$@"; echo "build-go-tools.sh: $tool ready, $(( $(date +%s) - started )) s after the start" ) \
    > "$CACHE/go/build-$tool.log" 2>&1 &
  pids+=("$!") names+=("$tool")
}
# after PID...: waits until those processes are gone (siblings: not this shell's to `wait` for)
after() { local p; for p in "$@"; do while kill -0 "$p" 2>/dev/null; do sleep 2; done; done; }
# in_turn FUNCTION PID...: FUNCTION once those are gone
in_turn() { local f="$1"; shift; after "$@"; "$f"; }
pulumi_after() { fetch_pulumi; after "$@"; compile_pulumi; }

# Nice 19 alone does not yield the CPU: with the kernel's autogroup scheduling (on by default), the CPU is shared
# first between sessions' autogroups, and nice counts only inside one. A Go compile at nice 19 in a session of its
# own took as much CPU as the lab's tests beside it (measured: e2e/up-down 10.6 min against 6.2 warm; with its
# autogroup at 19, 7.6: the compile still fills the tests' idle time). So the session's autogroup is set to nice 19
# too, and only when this script leads its session: in any other it would slow down the session that started it
# (the test run itself).
# (Lowering a priority needs no privilege; where the kernel has no autogroups there is no file, and nice is enough.)
lowest_priority() {
  renice -n 19 -p "$$" >/dev/null || true
  local sid; sid=$(awk '{print $6}' "/proc/$$/stat")   # (field 6: the session id; this shell's name has no space)
  if [ "$sid" = "$$" ] && [ -e "/proc/$$/autogroup" ]; then echo 19 2>/dev/null > "/proc/$$/autogroup" || true; fi
}
[ "$background" = 0 ] || lowest_priority

mkdir -p "$CACHE/go"
# who is building: what needs a program waits while this runs (test/lab/go-builds.ts)
echo "$$" > "$CACHE/.go-builds.pid"
# Bound by the CPU on a new machine, so in the order they are needed: the lab's machines need tailscale, then
# headscale, built in turn from one module (see lab_wrapper); the Pulumi CLI, the longest, is needed only by two
# test files that come late, so it compiles once they are built (its sources download meanwhile). All three side by
# side held the lab back.
lab_builds=() pulumi=0
for t in ${*:-tailscale headscale pulumi}; do
  case "$t" in
    tailscale|headscale) job "$t" in_turn "build_$t" "${lab_builds[@]}"; lab_builds+=("$!") ;;
    pulumi) pulumi=1 ;;
    *) echo "usage: build-go-tools.sh [--background] [tailscale|headscale|pulumi ...]" >&2; exit 2 ;;
  esac
done
[ "$pulumi" = 0 ] || job pulumi pulumi_after "${lab_builds[@]}"
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
