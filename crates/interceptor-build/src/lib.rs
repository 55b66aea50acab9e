//! Used by the protocol crates' build scripts: compiles the crate's
//! `bpf/<name>.bpf.c` (CO-RE, against the core's vendored `vmlinux.h` and
//! shared headers in `crates/interceptor-core/bpf`) into
//! `$OUT_DIR/<name>.bpf.o` and generates its skeleton,
//! `$OUT_DIR/<name>.skel.rs`, which embeds the object and declares the
//! record, config and `.rodata` types from the object's BTF: the one source
//! of truth for the layouts user space reads and writes. Needs clang; no
//! kernel headers.

use std::env;
use std::path::{Path, PathBuf};

use libbpf_cargo::SkeletonBuilder;

/// The shared BPF headers (`interceptor.bpf.h`, `interceptor_abi.h`,
/// `vmlinux.h`).
fn core_bpf_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../interceptor-core/bpf")
}

/// Compiles `bpf/<name>.bpf.c` of the calling crate and generates its
/// skeleton; panics (failing the build) with the compiler's output on error.
/// Any change under either BPF directory rebuilds both.
pub fn compile_bpf(name: &str) {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    compile(&manifest.join("bpf"), name, name, &[]);
}

/// Compiles another crate's `<bpf_dir>/<name>.bpf.c` with extra preprocessor
/// `defines` (e.g. `INTERCEPTOR_FLOOR`) into `$OUT_DIR/<out_name>.bpf.o` and its
/// skeleton `$OUT_DIR/<out_name>.skel.rs`: a build-time variant of that
/// object, with the same programs, maps and types.
pub fn compile_bpf_variant(bpf_dir: &Path, name: &str, out_name: &str, defines: &[&str]) {
    compile(bpf_dir, name, out_name, defines);
}

fn compile(own_dir: &Path, name: &str, out_name: &str, defines: &[&str]) {
    let core_dir = core_bpf_dir();
    let source = own_dir.join(format!("{name}.bpf.c"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    let object = out_dir.join(format!("{out_name}.bpf.o"));
    let skeleton = out_dir.join(format!("{out_name}.skel.rs"));
    let mut args: Vec<std::ffi::OsString> = vec![
        "-I".into(),
        own_dir.into(),
        "-I".into(),
        core_dir.clone().into(),
        "-Wall".into(),
        "-Werror".into(),
    ];
    args.extend(defines.iter().map(|define| format!("-D{define}").into()));
    if let Err(error) = SkeletonBuilder::new()
        .source(&source)
        .obj(&object)
        // The skeleton include_bytes!() the object rather than pasting it.
        .reference_obj(true)
        .clang_args(args)
        .build_and_generate(&skeleton)
    {
        panic!(
            "compiling {} failed (is clang installed? ./run.sh setup installs it): {error:#}",
            source.display()
        );
    }
    println!("cargo:rerun-if-changed={}", own_dir.display());
    println!("cargo:rerun-if-changed={}", core_dir.display());
}
