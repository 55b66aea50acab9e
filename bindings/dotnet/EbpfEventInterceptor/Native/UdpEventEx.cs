using System.Runtime.InteropServices;

namespace EbpfEventInterceptor.Native
{
    /// <summary>
    /// <c>struct udp_event_ex_t</c> of include/udpEvent.h, byte for byte: naturally aligned,
    /// 224 bytes, blittable. Field names are the C names (see <see cref="TcpEventEx"/>).
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = Size)]
    public unsafe struct UdpEventEx
    {
        /// <summary>sizeof(struct udp_event_ex_t) this binding was written against.</summary>
        public const int Size = 224;

        [FieldOffset(0)] public uint size;
        [FieldOffset(4)] public uint kind;
        [FieldOffset(8)] public ulong EventTime;
        [FieldOffset(16)] public uint pid;
        [FieldOffset(20)] public uint UserId;
        [FieldOffset(24)] public ulong rx_b;
        [FieldOffset(32)] public ulong tx_b;
        [FieldOffset(40)] public uint rxPkts;
        [FieldOffset(44)] public uint txPkts;
        [FieldOffset(48)] public ushort family;
        [FieldOffset(50)] public ushort SPT;
        [FieldOffset(52)] public ushort DPT;
        [FieldOffset(54)] public ushort reserved;
        [FieldOffset(56)] public fixed byte task[16];
        [FieldOffset(72)] public fixed byte SADDR[48];
        [FieldOffset(120)] public fixed byte DADDR[48];
        [FieldOffset(168)] public fixed byte saddr_raw[16];
        [FieldOffset(184)] public fixed byte daddr_raw[16];
        [FieldOffset(200)] public ulong cgroup_id;
        [FieldOffset(208)] public ulong cookie;
        [FieldOffset(216)] public uint netns_ino;
        [FieldOffset(220)] public uint rx_drops;

        /// <summary>The calling process's command name.</summary>
        public string Task { get { fixed (byte* p = task) return NativeText.Decode(p, 16); } }

        /// <summary>The local address as the library's inet_ntop text.</summary>
        public string SourceAddressText { get { fixed (byte* p = SADDR) return NativeText.Decode(p, 48); } }

        /// <summary>The peer address as the library's inet_ntop text.</summary>
        public string DestinationAddressText { get { fixed (byte* p = DADDR) return NativeText.Decode(p, 48); } }

        /// <summary>The local address, network byte order (IPv4 in the first 4 bytes).</summary>
        public byte[] SourceAddressBytes { get { fixed (byte* p = saddr_raw) return NativeText.Copy(p, 16); } }

        /// <summary>The peer address, network byte order (IPv4 in the first 4 bytes).</summary>
        public byte[] DestinationAddressBytes { get { fixed (byte* p = daddr_raw) return NativeText.Copy(p, 16); } }
    }
}
