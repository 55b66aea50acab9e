using System.Collections.Generic;

namespace EbpfEventInterceptor.RealTimeKql
{
    /// <summary>
    /// A UDP event as a RealTimeKql row: the C header's field names, DateTime / long / string
    /// values, every column in every row (see <see cref="TcpEventColumns"/>).
    /// </summary>
    public static class UdpEventColumns
    {
        /// <summary>The row of <paramref name="e"/>.</summary>
        public static IDictionary<string, object> ToDictionary(UdpEvent e)
        {
            var raw = e.Raw;
            return new Dictionary<string, object>
            {
                { "EventTime", e.Timestamp },
                { "kind", KindName(e.Kind) },
                { "pid", (long)e.ProcessId },
                { "UserId", (long)e.UserId },
                { "task", e.Comm },
                { "family", (long)raw.family },
                { "SADDR", raw.SourceAddressText },
                { "SPT", (long)e.LocalPort },
                { "DADDR", raw.DestinationAddressText },
                { "DPT", (long)e.RemotePort },
                { "rx_b", e.RxBytes },
                { "tx_b", e.TxBytes },
                { "rxPkts", e.RxPackets },
                { "txPkts", e.TxPackets },
                { "rx_drops", e.RxDrops },
                { "netns_ino", e.NetworkNamespace },
                { "cgroup_id", (long)e.CgroupId },
                { "cookie", (long)e.Cookie },
            };
        }

        /// <summary>"send", "receive" or "close".</summary>
        public static string KindName(UdpEventKind kind)
        {
            switch (kind)
            {
                case UdpEventKind.Send: return "send";
                case UdpEventKind.Receive: return "receive";
                case UdpEventKind.Close: return "close";
                default: return ((int)kind).ToString();
            }
        }
    }
}
