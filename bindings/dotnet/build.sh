#!/usr/bin/env bash
# The build that runs here, with Mono from Debian (no .NET SDK): fetch RealTimeKql's DLLs,
# then compile with mcs into one directory (default target/dotnet):
#
#   EbpfEventInterceptor.dll (+ .dll.config)   the binding (P/Invoke, tracers, events)
#   EbpfEventInterceptor.RealTimeKql.dll       EbpfTcpSession, EbpfUdpSession
#   realtimekql-ebpf.exe, realtimekql-ebpf     the host program and its launcher
#   BindingTests.exe, RealTimeKqlTests.exe     the tests (bindings/dotnet/test.sh runs them)
#   <Example>.exe                              the README's snippets (examples/*.cs)
#   RealTimeKql's DLLs, copied beside them so mono needs no MONO_PATH
#
# Users with the .NET SDK build the .csproj files instead (see README).
# Needs: mono-mcs, mono-runtime, libmono-posix4.0-cil and python3 with pip (./run.sh setup test).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${DOTNET_OUT:-$ROOT/target/dotnet}
RTKQL=$("$HERE/fetch-realtimekql.sh")

command -v mcs >/dev/null || { echo "build.sh: mcs is missing (Debian package mono-mcs; ./run.sh setup test)" >&2; exit 1; }

mkdir -p "$OUT"
# -warnaserror: a warning is a defect here too. -langversion:6 keeps the sources within
# what both mcs and the SDK's compiler take.
MCS=(mcs -nologo -langversion:6 -warnaserror -debug+ -optimize+)
sources() { find "$@" -name '*.cs' -not -path '*/obj/*' -not -path '*/bin/*' | sort; }

echo "build.sh: compiling into $OUT" >&2
cp -u "$RTKQL"/*.dll "$OUT/"

"${MCS[@]}" -target:library -unsafe -out:"$OUT/EbpfEventInterceptor.dll" \
    $(sources "$HERE/EbpfEventInterceptor")
cp "$HERE/EbpfEventInterceptor/EbpfEventInterceptor.dll.config" "$OUT/"
# The .NET-only code (#if NETCOREAPP3_0_OR_GREATER: the NativeLibrary resolver) is not in
# the Mono build; type-check it against the API's signatures so it cannot rot unseen.
"${MCS[@]}" -target:library -unsafe -define:NETCOREAPP3_0_OR_GREATER -out:"$OUT/netcore-typecheck.dll" \
    $(sources "$HERE/EbpfEventInterceptor" "$HERE/tests/NetCoreApi")
rm -f "$OUT/netcore-typecheck.dll" "$OUT/netcore-typecheck.dll.mdb"

RTKQL_REFS=(-r:"$OUT/RealTimeKqlLibrary.dll" -r:"$OUT/Microsoft.Rx.Kql.dll" -r:"$OUT/System.Reactive.dll")

"${MCS[@]}" -target:library -out:"$OUT/EbpfEventInterceptor.RealTimeKql.dll" \
    -r:"$OUT/EbpfEventInterceptor.dll" "${RTKQL_REFS[@]}" \
    $(sources "$HERE/EbpfEventInterceptor.RealTimeKql")

"${MCS[@]}" -target:exe -out:"$OUT/realtimekql-ebpf.exe" \
    -r:"$OUT/EbpfEventInterceptor.dll" -r:"$OUT/EbpfEventInterceptor.RealTimeKql.dll" "${RTKQL_REFS[@]}" \
    -r:Mono.Posix.dll $(sources "$HERE/realtimekql-ebpf")
cat >"$OUT/realtimekql-ebpf" <<'EOF'
#!/bin/sh
# realtimekql-ebpf tcp|udp --query FILE.kql [--output json|table]: see README.
exec mono "$(dirname "$0")/realtimekql-ebpf.exe" "$@"
EOF
chmod +x "$OUT/realtimekql-ebpf"

"${MCS[@]}" -target:exe -unsafe -out:"$OUT/BindingTests.exe" \
    -r:"$OUT/EbpfEventInterceptor.dll" -r:Mono.Posix.dll \
    $(sources "$HERE/tests/Shared" "$HERE/tests/BindingTests")

"${MCS[@]}" -target:exe -out:"$OUT/RealTimeKqlTests.exe" \
    -r:"$OUT/Newtonsoft.Json.dll" -r:Mono.Posix.dll \
    $(sources "$HERE/tests/Shared" "$HERE/tests/RealTimeKqlTests")

for example in "$HERE"/examples/*.cs; do
    name=$(basename "$example" .cs)
    "${MCS[@]}" -target:exe -out:"$OUT/$name.exe" \
        -r:"$OUT/EbpfEventInterceptor.dll" -r:"$OUT/EbpfEventInterceptor.RealTimeKql.dll" "${RTKQL_REFS[@]}" \
        "$example"
done
echo "$OUT"
