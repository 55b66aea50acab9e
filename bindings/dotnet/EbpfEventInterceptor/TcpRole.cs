namespace EbpfEventInterceptor
{
    /// <summary>tcp_event_ex_t.role (TCP_ROLE_* in tcpEvent.h).</summary>
    public enum TcpRole
    {
        /// <summary>TCP_ROLE_UNKNOWN: opened before the tracer started.</summary>
        Unknown = 0,

        /// <summary>TCP_ROLE_ACTIVE: this end called connect().</summary>
        Active = 1,

        /// <summary>TCP_ROLE_PASSIVE: this end was accepted.</summary>
        Passive = 2,
    }
}
