//! Compiles bpf/tcp_event.bpf.c into the object this library embeds.

fn main() {
    interceptor_build::compile_bpf("tcp_event");
}
