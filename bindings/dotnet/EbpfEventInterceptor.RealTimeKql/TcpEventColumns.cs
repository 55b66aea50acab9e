using System.Collections.Generic;

namespace EbpfEventInterceptor.RealTimeKql
{
    /// <summary>
    /// A TCP event as a RealTimeKql row. Column names are the C header's field names (README
    /// "Event meanings"), so queries read like the library's documentation. Types are the
    /// three Rx.Kql compares and aggregates reliably: DateTime (UTC) for EventTime, long for
    /// every number, string for text and for kind/role. Every row has every column, always
    /// with the same type (a missing column reads as "" and breaks comparisons).
    /// </summary>
    public static class TcpEventColumns
    {
        /// <summary>The row of <paramref name="e"/>.</summary>
        public static IDictionary<string, object> ToDictionary(TcpEvent e)
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
                { "tcpi_segs_out", e.DataSegmentsOut },
                { "tcpi_segs_in", e.DataSegmentsIn },
                { "role", RoleName(e.Role) },
                { "srtt_us", (long)raw.srtt_us },
                { "rttvar_us", (long)raw.rttvar_us },
                { "min_rtt_us", (long)raw.min_rtt_us },
                { "total_retrans", e.TotalRetransmits },
                { "lost", e.Lost },
                { "segs_out", e.SegmentsOut },
                { "segs_in", e.SegmentsIn },
                { "bytes_sent", e.BytesSent },
                { "bytes_retrans", e.BytesRetransmitted },
                { "duration_ns", (long)raw.duration_ns },
                { "connect_ns", (long)raw.connect_ns },
                { "error", (long)e.Error },
                { "netns_ino", e.NetworkNamespace },
                // u64 ids as long: cgroup ids are inode numbers and cookies a counter, far below 2^63.
                { "cgroup_id", (long)e.CgroupId },
                { "cookie", (long)e.Cookie },
            };
        }

        /// <summary>"close", "snapshot" or "failed_connect".</summary>
        public static string KindName(TcpEventKind kind)
        {
            switch (kind)
            {
                case TcpEventKind.Close: return "close";
                case TcpEventKind.Snapshot: return "snapshot";
                case TcpEventKind.FailedConnect: return "failed_connect";
                default: return ((int)kind).ToString();
            }
        }

        /// <summary>"active", "passive" or "unknown".</summary>
        public static string RoleName(TcpRole role)
        {
            switch (role)
            {
                case TcpRole.Active: return "active";
                case TcpRole.Passive: return "passive";
                default: return "unknown";
            }
        }
    }
}
