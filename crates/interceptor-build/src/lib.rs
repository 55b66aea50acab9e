//! Used by the libraries' build scripts: compiles `bpf/<name>.bpf.c` (CO-RE,
//! against the vendored `bpf/vmlinux.h`) into `$OUT_DIR/<name>.bpf.o`, which
//! the library embeds with `include_bytes!`. Needs clang; no kernel headers.

use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

/// Compiles `bpf/<name>.bpf.c`; panics (failing the build) with the compiler's
/// output on error. Any change under `bpf/` rebuilds the object.
pub fn compile_bpf(name: &str) {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let bpf_dir = manifest.join("../../bpf");
    let source = bpf_dir.join(format!("{name}.bpf.c"));
    let object = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join(format!("{name}.bpf.o"));
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
    println!("cargo:rerun-if-changed={}", bpf_dir.display());
}
