namespace EbpfEventInterceptor
{
    /// <summary>tcp_event_ex_t.kind (TCP_EVENT_* in tcpEvent.h).</summary>
    public enum TcpEventKind
    {
        /// <summary>TCP_EVENT_CLOSE: the connection reached TCP_CLOSE; final totals.</summary>
        Close = 1,

        /// <summary>TCP_EVENT_SNAPSHOT: a live connection whose counters changed.</summary>
        Snapshot = 2,

        /// <summary>TCP_EVENT_FAILED_CONNECT: closed without ever reaching ESTABLISHED.</summary>
        FailedConnect = 3,
    }
}
