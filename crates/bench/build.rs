//! Builds the floor of the UDP figures: libudpEvent's own BPF object
//! (crates/udp/bpf/udp_event.bpf.c) compiled once more with -DUDP_FLOOR, so
//! that every program returns at once (see src/floor.rs).

fn main() {
    let udp_bpf = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../udp/bpf");
    interceptor_build::compile_bpf_variant(&udp_bpf, "udp_event", "udp_floor", &["UDP_FLOOR"]);
}
