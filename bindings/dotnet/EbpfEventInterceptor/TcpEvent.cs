using System;
using System.Net;
using System.Net.Sockets;
using EbpfEventInterceptor.Native;

namespace EbpfEventInterceptor
{
    /// <summary>
    /// One TCP event in .NET terms: a close, a live-connection snapshot or a failed connect
    /// (README "Event meanings"). Built from the raw <see cref="TcpEventEx"/>, kept in
    /// <see cref="Raw"/> for anything not mirrored here.
    /// </summary>
    public sealed class TcpEvent
    {
        /// <summary>Close, snapshot or failed connect.</summary>
        public TcpEventKind Kind { get; private set; }
        /// <summary>When (UTC; the close, or the snapshot pass).</summary>
        public DateTime Timestamp { get; private set; }
        /// <summary>The same instant in Unix-epoch nanoseconds, as the library gave it.</summary>
        public ulong TimestampNanoseconds { get; private set; }
        /// <summary>The owning process (its tgid); 0 if no owner was ever seen.</summary>
        public int ProcessId { get; private set; }
        /// <summary>The owner's uid.</summary>
        public uint UserId { get; private set; }
        /// <summary>The owner's command name (comm).</summary>
        public string Comm { get; private set; }
        /// <summary>Whether this end connected or was accepted.</summary>
        public TcpRole Role { get; private set; }
        /// <summary>InterNetwork or InterNetworkV6: the socket's own family.</summary>
        public AddressFamily Family { get; private set; }
        /// <summary>The local address (v4-mapped on a dual-stack socket talking to IPv4).</summary>
        public IPAddress LocalAddress { get; private set; }
        /// <summary>The local port.</summary>
        public int LocalPort { get; private set; }
        /// <summary>The remote address.</summary>
        public IPAddress RemoteAddress { get; private set; }
        /// <summary>The remote port.</summary>
        public int RemotePort { get; private set; }
        /// <summary>bytes_received: payload bytes received, plus 1 if a FIN was received.</summary>
        public long RxBytes { get; private set; }
        /// <summary>bytes_acked: payload bytes the peer acknowledged, plus 1 each for an acked SYN and FIN.</summary>
        public long TxBytes { get; private set; }
        /// <summary>Segments sent that carried data.</summary>
        public long DataSegmentsOut { get; private set; }
        /// <summary>Segments received that carried data.</summary>
        public long DataSegmentsIn { get; private set; }
        /// <summary>All segments sent.</summary>
        public long SegmentsOut { get; private set; }
        /// <summary>All segments received.</summary>
        public long SegmentsIn { get; private set; }
        /// <summary>Payload bytes sent, retransmits included.</summary>
        public long BytesSent { get; private set; }
        /// <summary>Payload bytes retransmitted.</summary>
        public long BytesRetransmitted { get; private set; }
        /// <summary>Segments retransmitted over the connection's life.</summary>
        public long TotalRetransmits { get; private set; }
        /// <summary>Data packets lost over the connection's life.</summary>
        public long Lost { get; private set; }
        /// <summary>Smoothed round-trip time.</summary>
        public TimeSpan SmoothedRtt { get; private set; }
        /// <summary>Round-trip time variation.</summary>
        public TimeSpan RttVariation { get; private set; }
        /// <summary>Lowest round-trip time seen.</summary>
        public TimeSpan MinRtt { get; private set; }
        /// <summary>From the socket's first sighting to this event (zero if never seen before).</summary>
        public TimeSpan Duration { get; private set; }
        /// <summary>Active opens: SYN_SENT to ESTABLISHED; else zero.</summary>
        public TimeSpan ConnectTime { get; private set; }
        /// <summary>The socket's error at close as a positive errno (ECONNREFUSED = 111, ...); 0 if none.</summary>
        public int Error { get; private set; }
        /// <summary>The socket's network namespace inode.</summary>
        public long NetworkNamespace { get; private set; }
        /// <summary>The owner's cgroup v2 id; 0 if unknown.</summary>
        public ulong CgroupId { get; private set; }
        /// <summary>The socket cookie: the same on a connection's snapshots and its close.</summary>
        public ulong Cookie { get; private set; }
        /// <summary>The library's struct, as dequeued.</summary>
        public TcpEventEx Raw { get; private set; }

        /// <summary>The local end.</summary>
        public IPEndPoint LocalEndPoint { get { return new IPEndPoint(LocalAddress, LocalPort); } }
        /// <summary>The remote end.</summary>
        public IPEndPoint RemoteEndPoint { get { return new IPEndPoint(RemoteAddress, RemotePort); } }

        /// <summary>Converts a raw event.</summary>
        public static TcpEvent FromRaw(TcpEventEx raw)
        {
            var family = EventConversions.Family(raw.family);
            return new TcpEvent
            {
                Kind = (TcpEventKind)raw.kind,
                Timestamp = EventConversions.UtcFromUnixNanoseconds(raw.EventTime),
                TimestampNanoseconds = raw.EventTime,
                ProcessId = (int)raw.pid,
                UserId = raw.UserId,
                Comm = raw.Task,
                Role = (TcpRole)raw.role,
                Family = family,
                LocalAddress = EventConversions.Address(family, raw.SourceAddressBytes),
                LocalPort = raw.SPT,
                RemoteAddress = EventConversions.Address(family, raw.DestinationAddressBytes),
                RemotePort = raw.DPT,
                RxBytes = (long)raw.rx_b,
                TxBytes = (long)raw.tx_b,
                DataSegmentsOut = raw.tcpi_segs_out,
                DataSegmentsIn = raw.tcpi_segs_in,
                SegmentsOut = raw.segs_out,
                SegmentsIn = raw.segs_in,
                BytesSent = (long)raw.bytes_sent,
                BytesRetransmitted = (long)raw.bytes_retrans,
                TotalRetransmits = raw.total_retrans,
                Lost = raw.lost,
                SmoothedRtt = EventConversions.Microseconds(raw.srtt_us),
                RttVariation = EventConversions.Microseconds(raw.rttvar_us),
                MinRtt = EventConversions.Microseconds(raw.min_rtt_us),
                Duration = EventConversions.Nanoseconds(raw.duration_ns),
                ConnectTime = EventConversions.Nanoseconds(raw.connect_ns),
                Error = raw.error,
                NetworkNamespace = raw.netns_ino,
                CgroupId = raw.cgroup_id,
                Cookie = raw.cookie,
                Raw = raw,
            };
        }

        /// <inheritdoc/>
        public override string ToString()
        {
            return string.Format("{0} {1:o} pid={2} uid={3} comm={4} {5} -> {6} rx_b={7} tx_b={8}",
                Kind, Timestamp, ProcessId, UserId, Comm, LocalEndPoint, RemoteEndPoint, RxBytes, TxBytes);
        }
    }
}
