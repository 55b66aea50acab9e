namespace EbpfEventInterceptor
{
    /// <summary>udp_event_ex_t.kind (UDP_EVENT_* in udpEvent.h).</summary>
    public enum UdpEventKind
    {
        /// <summary>UDP_EVENT_SEND: a send call moved data.</summary>
        Send = 1,

        /// <summary>UDP_EVENT_RECEIVE: a receive call moved data.</summary>
        Receive = 2,

        /// <summary>UDP_EVENT_CLOSE: the socket was closed; final totals.</summary>
        Close = 3,
    }
}
