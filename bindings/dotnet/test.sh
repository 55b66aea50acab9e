#!/usr/bin/env bash
# The .NET binding's and the RealTimeKql input's tests, under Mono, with real eBPF on this
# kernel and loopback traffic (./run.sh test runs this after the cargo tests). Builds first
# (build.sh), then runs each test program with the libraries just built seen at
# /opt/RealTimeKql/lib in a private mount namespace (with-libraries.sh). Needs root.
#
#   bindings/dotnet/test.sh                                  everything
#   bindings/dotnet/test.sh BindingTests|RealTimeKqlTests [TEST ...]
#
# EBPF_INTERCEPTOR_LIB_DIR: the libraries to test (default target/release); netpeer, the
# traffic peer, comes from target/release as cargo builds it.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIBDIR=${EBPF_INTERCEPTOR_LIB_DIR:-$ROOT/target/release}
NETPEER=$ROOT/target/release/netpeer
[ -x "$NETPEER" ] || { echo "test.sh: $NETPEER is missing (cargo build --release --workspace)" >&2; exit 1; }

OUT=$("$HERE/build.sh")
suite=${1:-all}
[ $# -gt 0 ] && shift
run() {
    echo "==> $1 (mono)" >&2
    # --debug: file and line numbers in the stack traces of failures.
    "$HERE/with-libraries.sh" "$LIBDIR" mono --debug "$OUT/$1.exe" --repo "$ROOT" "${@:2}"
}
case "$suite" in
    all)
        # Both suites run even if the first fails; either failing fails the whole.
        status=0
        run BindingTests || status=1
        run RealTimeKqlTests --netpeer "$NETPEER" || status=1
        exit $status
        ;;
    BindingTests) run BindingTests "$@" ;;
    RealTimeKqlTests) run RealTimeKqlTests --netpeer "$NETPEER" "$@" ;;
    *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
