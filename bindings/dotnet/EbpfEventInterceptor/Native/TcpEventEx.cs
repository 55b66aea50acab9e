using System.Runtime.InteropServices;

namespace EbpfEventInterceptor.Native
{
    /// <summary>
    /// <c>struct tcp_event_ex_t</c> of include/tcpEvent.h, byte for byte: naturally aligned,
    /// 288 bytes, blittable (integers and fixed byte buffers only), so
    /// <see cref="TcpNative.DequeueEx"/> writes straight into it with no marshalling copy.
    /// Field names are the C names, so the layout test can compare each offset with the
    /// header's. The library may append fields: it writes at most the size we pass, so
    /// this struct keeps working against newer libraries.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = Size)]
    public unsafe struct TcpEventEx
    {
        /// <summary>sizeof(struct tcp_event_ex_t) this binding was written against.</summary>
        public const int Size = 288;

        [FieldOffset(0)] public uint size;
        [FieldOffset(4)] public uint kind;
        [FieldOffset(8)] public ulong EventTime;
        [FieldOffset(16)] public uint pid;
        [FieldOffset(20)] public uint UserId;
        [FieldOffset(24)] public ulong rx_b;
        [FieldOffset(32)] public ulong tx_b;
        [FieldOffset(40)] public uint tcpi_segs_out;
        [FieldOffset(44)] public uint tcpi_segs_in;
        [FieldOffset(48)] public ushort family;
        [FieldOffset(50)] public ushort SPT;
        [FieldOffset(52)] public ushort DPT;
        [FieldOffset(54)] public ushort reserved;
        [FieldOffset(56)] public fixed byte task[16];
        [FieldOffset(72)] public fixed byte SADDR[48];
        [FieldOffset(120)] public fixed byte DADDR[48];
        [FieldOffset(168)] public fixed byte saddr_raw[16];
        [FieldOffset(184)] public fixed byte daddr_raw[16];
        [FieldOffset(200)] public uint srtt_us;
        [FieldOffset(204)] public uint rttvar_us;
        [FieldOffset(208)] public uint min_rtt_us;
        [FieldOffset(212)] public uint total_retrans;
        [FieldOffset(216)] public uint lost;
        [FieldOffset(220)] public uint segs_out;
        [FieldOffset(224)] public uint segs_in;
        [FieldOffset(228)] public uint role;
        [FieldOffset(232)] public ulong bytes_sent;
        [FieldOffset(240)] public ulong bytes_retrans;
        [FieldOffset(248)] public ulong duration_ns;
        [FieldOffset(256)] public ulong connect_ns;
        [FieldOffset(264)] public int error;
        [FieldOffset(268)] public uint netns_ino;
        [FieldOffset(272)] public ulong cgroup_id;
        [FieldOffset(280)] public ulong cookie;

        /// <summary>The owner's command name.</summary>
        public string Task { get { fixed (byte* p = task) return NativeText.Decode(p, 16); } }

        /// <summary>The local address as the library's inet_ntop text.</summary>
        public string SourceAddressText { get { fixed (byte* p = SADDR) return NativeText.Decode(p, 48); } }

        /// <summary>The remote address as the library's inet_ntop text.</summary>
        public string DestinationAddressText { get { fixed (byte* p = DADDR) return NativeText.Decode(p, 48); } }

        /// <summary>The local address, network byte order (IPv4 in the first 4 bytes).</summary>
        public byte[] SourceAddressBytes { get { fixed (byte* p = saddr_raw) return NativeText.Copy(p, 16); } }

        /// <summary>The remote address, network byte order (IPv4 in the first 4 bytes).</summary>
        public byte[] DestinationAddressBytes { get { fixed (byte* p = daddr_raw) return NativeText.Copy(p, 16); } }
    }
}
