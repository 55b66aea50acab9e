#!/usr/bin/env bash
# Runs a command with the libraries of LIBDIR seen at /opt/RealTimeKql/lib, the path the
# binding resolves them from (EbpfEventInterceptor.dll.config), without installing anything:
# in a private mount namespace, an empty tmpfs over /opt gets LIBDIR's two libraries
# bind-mounted into /opt/RealTimeKql/lib. So the tests exercise the dllmap users get, cannot pick up a stale
# install, and leave the machine's /opt alone. Needs root (CAP_SYS_ADMIN).
#
#   bindings/dotnet/with-libraries.sh LIBDIR COMMAND [ARG...]
#   bindings/dotnet/with-libraries.sh --none COMMAND [ARG...]    (an empty /opt: no libraries)
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
LIBDIR=$1
shift
if [ "$LIBDIR" != --none ]; then
    LIBDIR=$(cd "$LIBDIR" && pwd)
    for lib in libtcpEvent.so libudpEvent.so; do
        [ -f "$LIBDIR/$lib" ] || { echo "with-libraries: $LIBDIR/$lib is missing (cargo build --release --workspace)" >&2; exit 1; }
    done
fi
exec unshare --mount --propagation private -- /bin/sh -ec '
    libdir=$1; shift
    mount -t tmpfs -o mode=0755 ebpf-interceptor-opt /opt
    mkdir -p /opt/RealTimeKql/lib
    if [ "$libdir" != --none ]; then
        for lib in libtcpEvent.so libudpEvent.so; do
            touch "/opt/RealTimeKql/lib/$lib"
            mount --bind -o ro "$libdir/$lib" "/opt/RealTimeKql/lib/$lib"
        done
    fi
    exec "$@"
' with-libraries "$LIBDIR" "$@"
