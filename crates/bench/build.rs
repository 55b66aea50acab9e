//! Builds the floors of the overhead figures: each library's own BPF object
//! (crates/{tcp,udp}/bpf/*_event.bpf.c) compiled once more with
//! -DINTERCEPTOR_FLOOR, so that every program returns at once (see
//! src/floor/mod.rs).

fn main() {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for library in ["tcp", "udp"] {
        interceptor_build::compile_bpf_variant(
            &crates.join(library).join("bpf"),
            &format!("{library}_event"),
            &format!("{library}_floor"),
            &["INTERCEPTOR_FLOOR"],
        );
    }
}
