//! Compiles bpf/tcp_event.bpf.c (CO-RE, against the vendored vmlinux.h) into
//! an object the library embeds. Needs clang; no kernel headers.

use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let bpf_dir = manifest.join("../../bpf");
    let source = bpf_dir.join("tcp_event.bpf.c");
    let object = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("tcp_event.bpf.o");
    if let Err(error) = SkeletonBuilder::new()
        .source(&source)
        .obj(&object)
        .clang_args(["-I".as_ref(), bpf_dir.as_os_str(), "-Wall".as_ref(), "-Werror".as_ref()])
        .build()
    {
        panic!(
            "compiling {} failed (is clang installed? ./run.sh setup installs it): {error:#}",
            source.display()
        );
    }
    // The object includes shared headers from bpf/: any change there rebuilds it.
    println!("cargo:rerun-if-changed={}", bpf_dir.display());
}
