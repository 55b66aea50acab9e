#!/usr/bin/env bash
# One entry point for people and CI (run as root: it installs packages,
# loads BPF programs and installs into /opt/RealTimeKql).
#
#   ./run.sh monitor   set up, build, install, then run `ebpf-interceptor` (every TCP and UDP event)
#   ./run.sh test      set up, build, install, then run every check and test,
#                      including the kernel matrix (host + Debian kernels in QEMU)
#   ./run.sh setup     install the Debian packages the build needs (`setup test`:
#                      also what the tests need, and the OTLP receiver's venv)
#   ./run.sh build     build the libraries and the command (release)
#   ./run.sh install   build, then install libraries and headers into $PREFIX
#                      and the command into $BIN_DIR
#   ./run.sh package   build the Debian package: target/debian/ebpf-event-interceptor_<version>_<arch>.deb
#   ./run.sh matrix    only the kernel matrix (options: --only 5.10,6.1,6.12,host)
#   ./run.sh headers   regenerate include/*.h from the Rust definitions
#   ./run.sh bench     measure tracing overhead (not part of test); writes crates/bench/RESULTS.md
#   ./run.sh soak N    install, then run the host suites N times in a row (default 20) while
#                      stress-ng loads every CPU; per-round results and a summary, non-zero
#                      exit on any failure (not part of test; SOAK_LOAD="cmd ..." replaces the load)
#   ./run.sh python-tests  only the Python binding's tests (bindings/python), against a fresh build
#   ./run.sh dotnet-tests  only the .NET binding's and RealTimeKql input's tests (bindings/dotnet,
#                      under Mono), against a fresh build
set -euo pipefail
cd "$(dirname "$0")"

PREFIX=${PREFIX:-/opt/RealTimeKql}
# Where the ebpf-interceptor command goes (on PATH).
BIN_DIR=${BIN_DIR:-/usr/local/bin}
CACHE_DIR=/var/cache/ebpf-event-interceptor
# clang compiles the BPF programs; libelf, zlib and pkg-config are what
# libbpf-sys builds libbpf against; gcc builds the C examples and tests.
BUILD_PACKAGES=(clang libelf-dev zlib1g-dev pkg-config gcc make binutils coreutils)
# The Debian package: dpkg-shlibdeps, dpkg-gencontrol and dpkg-deb.
PACKAGE_PACKAGES=(dpkg-dev)
# The kernel matrix boots Debian kernels under QEMU with a busybox initramfs.
# The extended-event tests: nftables (dropped segments), iproute2 (network
# namespaces). The command's tests: tmux (top, interactively),
# python3-venv and libpython3.11 (the OTLP receiver, rotel, whose agent
# binary links libpython3.11). The package's tests run lintian and install
# it into a clean system that debootstrap makes.
TEST_PACKAGES=(qemu-system-x86 busybox-static cpio debian-archive-keyring
    nftables tmux iproute2 python3-venv libpython3.11
    "${PACKAGE_PACKAGES[@]}" lintian debootstrap)
# The OTLP receiver the export tests post to: pinned, installed from cached
# wheels (downloaded from PyPI once).
ROTEL_VENV=$CACHE_DIR/rotel-venv
ROTEL_REQUIREMENTS=crates/testkit/otlp-receiver-requirements.txt
# The .NET binding's tests (`setup test`, and dotnet_tests when missing): Mono and
# the framework assemblies RealTimeKql loads, and pip, which fetches
# RealTimeKql's DLLs from PyPI (bindings/dotnet/fetch-realtimekql.sh).
DOTNET_PACKAGES=(mono-runtime mono-mcs libmono-posix4.0-cil libmono-system-runtime-caching4.0-cil
    libmono-system-runtime-serialization4.0-cil libmono-system-data4.0-cil
    libmono-system-numerics4.0-cil libmono-system-xml-linq4.0-cil python3-pip)
# The benchmark measures bpftrace (a tcplife equivalent) beside the library.
BENCH_PACKAGES=(bpftrace)
# The soak loads the machine while the suites run.
SOAK_PACKAGES=(stress-ng)
LIBRARIES=(libtcpEvent.so libudpEvent.so)
HEADERS=(include/tcpEvent.h include/udpEvent.h)

# Each step with the time since the start: where a slow run spends it.
log() { printf '==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

require_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "run.sh $1: needs root (BPF programs, packages, /opt); try: sudo ./run.sh $1" >&2
        exit 1
    fi
}

missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$pkg"
    done
}

setup() {
    require_root setup
    local missing packages=("${BUILD_PACKAGES[@]}")
    case "${1:-}" in
        test) packages+=("${TEST_PACKAGES[@]}" "${DOTNET_PACKAGES[@]}") ;;
        package) packages+=("${PACKAGE_PACKAGES[@]}") ;;
        bench) packages+=("${BENCH_PACKAGES[@]}") ;;
        soak) packages+=("${SOAK_PACKAGES[@]}") ;;
    esac
    missing=$(missing_packages "${packages[@]}")
    if [ -n "$missing" ]; then
        log "installing Debian packages: $(echo $missing)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
    command -v cargo >/dev/null || { echo "run.sh: cargo (rustup) is required" >&2; exit 1; }
    if [ "${1:-}" = test ]; then
        otlp_receiver
    fi
}

# Creates (or, when the pinned requirements changed, recreates) the venv
# holding rotel, from wheels cached in $CACHE_DIR/wheels; only missing
# wheels are downloaded.
otlp_receiver() {
    local wheels="$CACHE_DIR/wheels" stamp="$ROTEL_VENV/.requirements"
    if [ -x "$ROTEL_VENV/bin/python" ] && cmp -s "$ROTEL_REQUIREMENTS" "$stamp"; then
        return
    fi
    log "OTLP receiver for the tests: rotel (pinned) into $ROTEL_VENV"
    mkdir -p "$wheels"
    rm -rf "$ROTEL_VENV"
    /usr/bin/python3 -m venv "$ROTEL_VENV"
    local pip=("$ROTEL_VENV/bin/pip" --disable-pip-version-check -q)
    if ! "${pip[@]}" install --no-index --find-links "$wheels" --require-hashes -r "$ROTEL_REQUIREMENTS" 2>/dev/null; then
        "${pip[@]}" download --only-binary=:all: --require-hashes -r "$ROTEL_REQUIREMENTS" -d "$wheels"
        "${pip[@]}" install --no-index --find-links "$wheels" --require-hashes -r "$ROTEL_REQUIREMENTS"
    fi
    cp "$ROTEL_REQUIREMENTS" "$stamp"
}

build() {
    log "building the libraries and the command (release)"
    cargo build --release --workspace --locked
}

install_libraries() {
    require_root install
    build
    log "installing into $PREFIX"
    install -d "$PREFIX/lib" "$PREFIX/include"
    for lib in "${LIBRARIES[@]}"; do
        install -m 0755 "target/release/$lib" "$PREFIX/lib/$lib"
    done
    install -m 0644 "${HEADERS[@]}" "$PREFIX/include/"
    log "installing the command into $BIN_DIR"
    install -d "$BIN_DIR"
    install -m 0755 target/release/ebpf-interceptor "$BIN_DIR/ebpf-interceptor"
}

monitor() {
    setup
    install_libraries
    log "tracing TCP connections and UDP traffic with $BIN_DIR/ebpf-interceptor; Ctrl+C stops"
    exec "$BIN_DIR/ebpf-interceptor"
}

run_tests() {
    setup test
    install_libraries
    log "formatting and lints"
    cargo fmt --all -- --check
    cargo clippy --release --workspace --all-targets --locked -- -D warnings
    log "building the tests"
    cargo test --release --workspace --locked --no-run
    # The kernel matrix's VMs use QEMU's CPU, not this kernel's hooks: they run
    # while the host's own suites do (those mostly wait on traffic, leaving a
    # core idle). The matrix's host row waits for the gate: it traces this
    # kernel too.
    local gate=target/host-suites-done
    rm -f "$gate"
    log "kernel matrix, in the background (its lines say 'xtask matrix' or '[kernel ...]'): the suites" \
        "once per attach path and once automatic, on Debian kernels under QEMU and on this host"
    # Its own process group (setsid): stopping it stops its QEMUs.
    setsid cargo xtask matrix --host-after "$gate" &
    local matrix_pid=$!
    trap 'kill -TERM -- -'"$matrix_pid"' 2>/dev/null || true' EXIT
    log "unit and integration tests (real eBPF on this kernel)"
    # One test at a time per binary (the tests share the kernel's hooks and
    # each library is a process-wide singleton): RUST_TEST_THREADS=1 comes
    # from .cargo/config.toml.
    cargo test --release --workspace --locked
    python_tests
    dotnet_tests
    package_tests
    touch "$gate"
    log "host suites passed; waiting for the kernel matrix"
    wait "$matrix_pid"
    trap - EXIT
}

# Prints the path of the package it built.
package() {
    log "building the Debian package"
    cargo xtask package
}

package_tests() {
    local deb
    deb=$(package)
    log "the Debian package: lintian, then install, use and purge it in a clean Debian system"
    cargo xtask package-test "$deb"
}

# The Python binding (bindings/python) against the libraries just built: a
# venv cached under /var/cache from Debian's python3, its pinned test tools
# from a wheel cache (filled from PyPI once), the package pip-installed.
python_tests() {
    local cache=/var/cache/ebpf-event-interceptor
    local venv=$cache/python-venv wheels=$cache/wheels lib_dir=$PWD/target/release
    local requirements=bindings/python/requirements-test.txt missing
    local pip=("$venv/bin/pip" -q --disable-pip-version-check)
    missing=$(missing_packages python3 python3-venv bpftool)
    if [ -n "$missing" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
    log "Python binding: pytest in $venv against $lib_dir"
    [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
    if ! "${pip[@]}" install --no-index --find-links "$wheels" -r "$requirements" 2>/dev/null; then
        "${pip[@]}" download -d "$wheels" -r "$requirements"
        "${pip[@]}" install --no-index --find-links "$wheels" -r "$requirements"
    fi
    "${pip[@]}" install --no-index --no-build-isolation --force-reinstall --no-deps ./bindings/python
    # From the tests' directory, so that the installed package is the one imported.
    (cd bindings/python && EBPF_INTERCEPTOR_LIB_DIR="$lib_dir" "$venv/bin/python" -m pytest -p no:cacheprovider tests)
}

# The .NET binding (bindings/dotnet) and the RealTimeKql input under Debian's
# Mono, against the libraries just built; RealTimeKql's DLLs (realtimekql==2.2.4
# from PyPI, pinned by hash) cached under /var/cache/ebpf-event-interceptor.
dotnet_tests() {
    local missing
    missing=$(missing_packages "${DOTNET_PACKAGES[@]}")
    if [ -n "$missing" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
    log ".NET binding and RealTimeKql input under Mono (real eBPF, loopback traffic)"
    bindings/dotnet/test.sh
}

matrix() {
    log "kernel matrix: the suites once per attach path and once automatic, on this host and on Debian kernels under QEMU"
    cargo xtask matrix "$@"
}

headers() {
    cargo xtask headers
}

bench() {
    setup bench
    build
    log "benchmark: figures on stdout and in crates/bench/RESULTS.md"
    target/release/interceptor-bench --out crates/bench/RESULTS.md
}

# The host suites N times in a row on a deliberately loaded machine: a test
# that depends on timing fails here sooner or later; a correct suite never.
soak() {
    local rounds=${1:-20}
    if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
        echo "run.sh soak: N is a number of rounds, got '$rounds'" >&2
        exit 2
    fi
    setup soak
    install_libraries
    local load=${SOAK_LOAD:-stress-ng --cpu $(nproc) --quiet}
    local logs=target/soak
    rm -rf "$logs"
    mkdir -p "$logs"
    log "building the tests before loading the machine"
    if ! cargo test --release --workspace --locked --no-run >"$logs/build.log" 2>&1; then
        cat "$logs/build.log" >&2
        exit 1
    fi
    # In a process group of its own, so that stopping it stops every worker.
    setsid $load >"$logs/load.log" 2>&1 &
    local load_pid=$!
    trap 'kill -TERM -- -'"$load_pid"' 2>/dev/null || true' EXIT
    log "soak: $rounds rounds of 'cargo test --release --workspace' under: $load"
    local round failed_rounds=0 began=$SECONDS round_began failures all_failures=""
    for ((round = 1; round <= rounds; round++)); do
        round_began=$SECONDS
        # A round takes about a minute; one that hangs is ended (with every
        # process it started: timeout signals its whole process group).
        if timeout --kill-after=30 1800 cargo test --release --workspace --locked --no-fail-fast \
            >"$logs/round-$round.log" 2>&1; then
            printf 'soak round %d/%d: passed in %d s (load average %s)\n' "$round" "$rounds" \
                $((SECONDS - round_began)) "$(cut -d' ' -f1 /proc/loadavg)"
        else
            failures=$(soak_failures "$logs/round-$round.log")
            failed_rounds=$((failed_rounds + 1))
            all_failures+="${failures:-?::?}"$'\n'
            printf 'soak round %d/%d: FAILED in %d s (load average %s): %s (log: %s)\n' "$round" "$rounds" \
                $((SECONDS - round_began)) "$(cut -d' ' -f1 /proc/loadavg)" "$(echo ${failures:-?})" \
                "$logs/round-$round.log"
        fi
    done
    kill -TERM -- -"$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
    trap - EXIT
    printf '\nsoak summary: %d rounds in %d min %d s under "%s": %d failed\n' \
        "$rounds" $(((SECONDS - began) / 60)) $(((SECONDS - began) % 60)) "$load" "$failed_rounds"
    if [ "$failed_rounds" -gt 0 ]; then
        echo "failed tests (number of rounds):"
        printf '%s' "$all_failures" | grep -v '^$' | sort | uniq -c | sort -rn
        exit 1
    fi
}

# The failing tests of one round's log, one per line as binary::test (a
# binary that failed without a failing test, e.g. a crash: binary::?). Each
# failed test has a "---- name stdout ----" section: its "test name ..."
# line may be cut by output of the processes it ran.
soak_failures() {
    awk '
        /^ +Running / { binary = $NF; gsub(/[()]/, "", binary); sub(/.*\//, "", binary); sub(/-[0-9a-f]+$/, "", binary); named = 0 }
        /^ +Doc-tests / { binary = "doc-tests " $2; named = 0 }
        /^---- .* stdout ----$/ { print binary "::" $2; named = 1 }
        /^error: test failed/ && !named { print binary "::?" }
    ' "$1"
}

# The tests and the benchmark share the kernel's hooks and see the whole
# host's traffic: a filter test that lets everything through loses its own
# events to a benchmark's datagram flood (the queue sheds the oldest). So one
# such run at a time; the next waits for the lock, held by flock(1) until the
# run ends (-o: not inherited by the processes the run starts).
RUN_LOCK=/var/lock/ebpf-interceptor-tests.lock
one_at_a_time() {
    [ "${EBPF_INTERCEPTOR_RUN_LOCK_HELD:-}" = "$RUN_LOCK" ] && return 0
    export EBPF_INTERCEPTOR_RUN_LOCK_HELD=$RUN_LOCK
    if ! flock -n "$RUN_LOCK" true; then
        log "another test or benchmark run holds $RUN_LOCK: waiting for it to end"
    fi
    exec flock -o "$RUN_LOCK" "$0" "$@"
}

case "${1:-}" in
    test | bench | soak | matrix | python-tests | dotnet-tests) one_at_a_time "$@" ;;
esac

case "${1:-}" in
    monitor) monitor ;;
    test) run_tests ;;
    setup) setup "${2:-}" ;;
    build) build ;;
    install) setup; install_libraries ;;
    package) setup package; package ;;
    headers) headers ;;
    bench) require_root bench; bench ;;
    soak) require_root soak; shift; soak "$@" ;;
    matrix) require_root matrix; setup test; build; shift; matrix "$@" ;;
    python-tests) require_root python-tests; setup; build; python_tests ;;
    dotnet-tests) require_root dotnet-tests; setup; build; dotnet_tests ;;
    *)
        sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
