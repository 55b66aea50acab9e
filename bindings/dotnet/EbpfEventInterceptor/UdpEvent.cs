using System;
using System.Net;
using System.Net.Sockets;
using EbpfEventInterceptor.Native;

namespace EbpfEventInterceptor
{
    /// <summary>
    /// One UDP event in .NET terms: a socket's cumulative totals after a send or receive call
    /// that moved data, or at its close (README "Event meanings (struct udp_event_t)").
    /// </summary>
    public sealed class UdpEvent
    {
        /// <summary>Send, receive or close (with coalescing: the kind of the last call reported).</summary>
        public UdpEventKind Kind { get; private set; }
        /// <summary>When (UTC; the call, or the close).</summary>
        public DateTime Timestamp { get; private set; }
        /// <summary>The same instant in Unix-epoch nanoseconds, as the library gave it.</summary>
        public ulong TimestampNanoseconds { get; private set; }
        /// <summary>The process doing the call (closing, for the close event).</summary>
        public int ProcessId { get; private set; }
        /// <summary>That process's uid.</summary>
        public uint UserId { get; private set; }
        /// <summary>That process's command name (comm).</summary>
        public string Comm { get; private set; }
        /// <summary>InterNetwork or InterNetworkV6: the socket's own family.</summary>
        public AddressFamily Family { get; private set; }
        /// <summary>The local address (0.0.0.0 or :: when bound to any).</summary>
        public IPAddress LocalAddress { get; private set; }
        /// <summary>The local port (the real one once autobound).</summary>
        public int LocalPort { get; private set; }
        /// <summary>The peer: connected peer, destination of this send, source of this datagram; any-address when unknown.</summary>
        public IPAddress RemoteAddress { get; private set; }
        /// <summary>The peer port; 0 when unknown.</summary>
        public int RemotePort { get; private set; }
        /// <summary>Payload bytes delivered to the application by this socket so far.</summary>
        public long RxBytes { get; private set; }
        /// <summary>Payload bytes sent by this socket so far.</summary>
        public long TxBytes { get; private set; }
        /// <summary>Datagrams delivered so far.</summary>
        public long RxPackets { get; private set; }
        /// <summary>Datagrams sent so far.</summary>
        public long TxPackets { get; private set; }
        /// <summary>Datagrams the kernel dropped for this socket so far.</summary>
        public long RxDrops { get; private set; }
        /// <summary>The socket's network namespace inode.</summary>
        public long NetworkNamespace { get; private set; }
        /// <summary>The calling process's cgroup v2 id.</summary>
        public ulong CgroupId { get; private set; }
        /// <summary>The socket cookie, the same on all of a socket's events.</summary>
        public ulong Cookie { get; private set; }
        /// <summary>The library's struct, as dequeued.</summary>
        public UdpEventEx Raw { get; private set; }

        /// <summary>The local end.</summary>
        public IPEndPoint LocalEndPoint { get { return new IPEndPoint(LocalAddress, LocalPort); } }
        /// <summary>The peer end.</summary>
        public IPEndPoint RemoteEndPoint { get { return new IPEndPoint(RemoteAddress, RemotePort); } }

        /// <summary>Converts a raw event.</summary>
        public static UdpEvent FromRaw(UdpEventEx raw)
        {
            var family = EventConversions.Family(raw.family);
            return new UdpEvent
            {
                Kind = (UdpEventKind)raw.kind,
                Timestamp = EventConversions.UtcFromUnixNanoseconds(raw.EventTime),
                TimestampNanoseconds = raw.EventTime,
                ProcessId = (int)raw.pid,
                UserId = raw.UserId,
                Comm = raw.Task,
                Family = family,
                LocalAddress = EventConversions.Address(family, raw.SourceAddressBytes),
                LocalPort = raw.SPT,
                RemoteAddress = EventConversions.Address(family, raw.DestinationAddressBytes),
                RemotePort = raw.DPT,
                RxBytes = (long)raw.rx_b,
                TxBytes = (long)raw.tx_b,
                RxPackets = raw.rxPkts,
                TxPackets = raw.txPkts,
                RxDrops = raw.rx_drops,
                NetworkNamespace = raw.netns_ino,
                CgroupId = raw.cgroup_id,
                Cookie = raw.cookie,
                Raw = raw,
            };
        }

        /// <inheritdoc/>
        public override string ToString()
        {
            return string.Format("{0} {1:o} pid={2} uid={3} comm={4} {5} -> {6} rx_b={7} tx_b={8} rxPkts={9} txPkts={10}",
                Kind, Timestamp, ProcessId, UserId, Comm, LocalEndPoint, RemoteEndPoint, RxBytes, TxBytes, RxPackets, TxPackets);
        }
    }
}
