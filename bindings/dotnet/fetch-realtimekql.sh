#!/usr/bin/env bash
# RealTimeKql's .NET assemblies (RealTimeKqlLibrary, Microsoft.Rx.Kql, System.Reactive,
# Kusto.Language, Newtonsoft.Json and the rest of its set) are published on PyPI inside the
# wheel realtimekql==2.2.4, not on a registry this project can reach for .NET. This puts the
# wheel's data/lib DLLs into a cache, once; they are never committed.
#
#   bindings/dotnet/fetch-realtimekql.sh        prints the cache directory
#
# REALTIMEKQL_CACHE overrides the cache (default /var/cache/ebpf-event-interceptor/realtimekql).
set -euo pipefail

VERSION=2.2.4
WHEEL=realtimekql-$VERSION-py3-none-any.whl
# The wheel this was built and tested against; a different file fails loudly.
SHA256=35fdfb5309405a8cc6360be6be824a8fe246644f81a8a6a758cf8073d3f211cd
CACHE=${REALTIMEKQL_CACHE:-/var/cache/ebpf-event-interceptor/realtimekql}
MARKER="$CACHE/.realtimekql-$VERSION-$SHA256"

if [ ! -f "$MARKER" ]; then
    mkdir -p "$CACHE/.wheel"
    if [ ! -f "$CACHE/.wheel/$WHEEL" ]; then
        echo "fetch-realtimekql: pip download realtimekql==$VERSION" >&2
        # --no-deps: the wheel requires pythonnet, pandas and azure-kusto-*; only its DLLs are wanted.
        python3 -m pip download --quiet --no-deps --only-binary=:all: "realtimekql==$VERSION" -d "$CACHE/.wheel" >&2
    fi
    echo "$SHA256  $CACHE/.wheel/$WHEEL" | sha256sum --check --quiet
    # The wheel carries the DLLs twice (lib/ and the data dir); take the data dir's.
    python3 - "$CACHE/.wheel/$WHEEL" "$CACHE" "realtimekql-$VERSION.data/data/lib/" <<'EOF'
import os, sys, zipfile
wheel, cache, prefix = sys.argv[1:]
count = 0
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and name.endswith(".dll") and "/" not in name[len(prefix):]:
            with open(os.path.join(cache, name[len(prefix):]), "wb") as out:
                out.write(z.read(name))
            count += 1
if count < 40:
    sys.exit(f"fetch-realtimekql: only {count} DLLs under {prefix} in {wheel}")
EOF
    touch "$MARKER"
fi
for dll in RealTimeKqlLibrary Microsoft.Rx.Kql System.Reactive Kusto.Language Newtonsoft.Json; do
    [ -f "$CACHE/$dll.dll" ] || { echo "fetch-realtimekql: $CACHE/$dll.dll is missing" >&2; exit 1; }
done
echo "$CACHE"
