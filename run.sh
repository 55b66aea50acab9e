#!/usr/bin/env bash
# One entry point for people and CI (run as root: it installs packages,
# loads BPF programs and installs into /opt/RealTimeKql).
#
#   ./run.sh monitor   set up, build, install, then run the live TCP and UDP monitor
#   ./run.sh test      set up, build, install, then run every check and test,
#                      including the kernel matrix (host + Debian kernels in QEMU)
#   ./run.sh setup     install the Debian packages the build and tests need
#   ./run.sh build     build the libraries (release)
#   ./run.sh install   build, then install libraries and headers into $PREFIX
#   ./run.sh package   build the Debian package: target/debian/ebpf-event-interceptor_<version>_<arch>.deb
#   ./run.sh matrix    only the kernel matrix (options: --only 5.10,6.1,6.12,host)
#   ./run.sh headers   regenerate include/*.h from the Rust definitions
#   ./run.sh bench     measure tracing overhead (not part of test); writes crates/bench/RESULTS.md
set -euo pipefail
cd "$(dirname "$0")"

PREFIX=${PREFIX:-/opt/RealTimeKql}
# clang compiles the BPF programs; libelf, zlib and pkg-config are what
# libbpf-sys builds libbpf against; gcc builds the C examples and tests.
BUILD_PACKAGES=(clang libelf-dev zlib1g-dev pkg-config gcc make binutils coreutils)
# The Debian package: dpkg-shlibdeps, dpkg-gencontrol and dpkg-deb.
PACKAGE_PACKAGES=(dpkg-dev)
# The kernel matrix boots Debian kernels under QEMU with a busybox initramfs;
# the package's tests run lintian and install it into a clean system that
# debootstrap makes.
TEST_PACKAGES=(qemu-system-x86 busybox-static cpio debian-archive-keyring nftables iproute2
    "${PACKAGE_PACKAGES[@]}" lintian debootstrap)
# The benchmark measures bpftrace (a tcplife equivalent) beside the library.
BENCH_PACKAGES=(bpftrace)
LIBRARIES=(libtcpEvent.so libudpEvent.so)
HEADERS=(include/tcpEvent.h include/udpEvent.h)

log() { printf '==> %s\n' "$*" >&2; }

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
        test) packages+=("${TEST_PACKAGES[@]}") ;;
        package) packages+=("${PACKAGE_PACKAGES[@]}") ;;
        bench) packages+=("${BENCH_PACKAGES[@]}") ;;
    esac
    missing=$(missing_packages "${packages[@]}")
    if [ -n "$missing" ]; then
        log "installing Debian packages: $(echo $missing)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
    command -v cargo >/dev/null || { echo "run.sh: cargo (rustup) is required" >&2; exit 1; }
}

build() {
    log "building the libraries (release)"
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
}

monitor() {
    setup
    install_libraries
    log "building examples/net_monitor.c against $PREFIX (gcc -ldl)"
    gcc -Wall -o target/net_monitor examples/net_monitor.c -I"$PREFIX/include" -ldl -lpthread
    log "monitoring TCP connections and UDP traffic; Ctrl+C stops"
    exec target/net_monitor
}

run_tests() {
    setup test
    install_libraries
    log "formatting and lints"
    cargo fmt --all -- --check
    cargo clippy --release --workspace --all-targets --locked -- -D warnings
    log "unit and integration tests (real eBPF on this kernel)"
    # One test at a time per binary (the tests share the kernel's hooks and
    # each library is a process-wide singleton): RUST_TEST_THREADS=1 comes
    # from .cargo/config.toml.
    cargo test --release --workspace --locked
    local deb
    deb=$(package)
    log "the Debian package: lintian, then install, use and purge it in a clean Debian system"
    cargo xtask package-test "$deb"
    matrix
}

# Prints the path of the package it built.
package() {
    log "building the Debian package"
    cargo xtask package
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

case "${1:-}" in
    monitor) monitor ;;
    test) run_tests ;;
    setup) setup ;;
    build) build ;;
    install) setup; install_libraries ;;
    package) setup package; package ;;
    headers) headers ;;
    bench) require_root bench; bench ;;
    matrix) require_root matrix; setup test; build; shift; matrix "$@" ;;
    *)
        sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
