//! The C libraries' settings variables (`EBPF_INTERCEPTOR_*`, read at
//! `AddProbe`). A builder reads them only after
//! [`TracerBuilder::with_environment`](crate::TracerBuilder::with_environment);
//! a front end that takes its settings otherwise can name them here to tell
//! its users that a variable they set is not read.

/// The builder setting a variable stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// [`TracerBuilder::filter`](crate::TracerBuilder::filter).
    Filter,
    /// [`TracerBuilder::attach_path`](crate::TracerBuilder::attach_path).
    AttachPath,
    /// [`TracerBuilder::transport`](crate::TracerBuilder::transport).
    Transport,
    /// [`TracerBuilder::max_sockets`](crate::TracerBuilder::max_sockets).
    MaxSockets,
    /// [`TracerBuilder::snapshot_interval`](crate::TracerBuilder::snapshot_interval) (TCP).
    SnapshotInterval,
    /// [`TracerBuilder::coalesce`](crate::TracerBuilder::coalesce) (UDP).
    Coalesce,
}

/// libtcpEvent.so's variables, each with the setting it stands for.
pub const TCP_VARIABLES: [(&str, Setting); 5] = [
    (interceptor_tcp::FILTER_ENV, Setting::Filter),
    (interceptor_tcp::ATTACH_ENV, Setting::AttachPath),
    (interceptor_core::settings::TRANSPORT_ENV, Setting::Transport),
    (interceptor_tcp::MAX_SOCKETS_ENV, Setting::MaxSockets),
    (interceptor_tcp::SNAPSHOT_ENV, Setting::SnapshotInterval),
];

/// libudpEvent.so's variables, each with the setting it stands for.
pub const UDP_VARIABLES: [(&str, Setting); 5] = [
    (interceptor_udp::FILTER_ENV, Setting::Filter),
    (interceptor_udp::ATTACH_ENV, Setting::AttachPath),
    (interceptor_core::settings::TRANSPORT_ENV, Setting::Transport),
    (interceptor_udp::MAX_SOCKETS_ENV, Setting::MaxSockets),
    (interceptor_udp::COALESCE_ENV, Setting::Coalesce),
];
