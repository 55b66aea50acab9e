using System.Runtime.InteropServices;

namespace EbpfEventInterceptor.Native
{
    /// <summary>
    /// <c>struct event_interceptor_stats</c> of the headers: packed (<c>#pragma pack(1)</c>),
    /// 132 bytes. Pack = 1 keeps the runtime from rounding the size up to 136.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = Size, Pack = 1)]
    public unsafe struct InterceptorStatsNative
    {
        /// <summary>sizeof(struct event_interceptor_stats).</summary>
        public const int Size = 132;

        [FieldOffset(0)] public ulong delivered;
        [FieldOffset(8)] public ulong queued;
        [FieldOffset(16)] public ulong shed;
        [FieldOffset(24)] public ulong discarded;
        [FieldOffset(32)] public ulong lost;
        [FieldOffset(40)] public ulong map_full;
        [FieldOffset(48)] public ulong owner_unknown;
        [FieldOffset(56)] public ulong kernel_emitted;
        [FieldOffset(64)] public ulong malformed;
        [FieldOffset(72)] public ulong periodic_failures;
        [FieldOffset(80)] public uint status;
        [FieldOffset(84)] public fixed byte attach_path[32];
        [FieldOffset(116)] public fixed byte transport[16];

        /// <summary>The attach path in use; empty before setup completes.</summary>
        public string AttachPath { get { fixed (byte* p = attach_path) return NativeText.Decode(p, 32); } }

        /// <summary>"ringbuf" or "perf".</summary>
        public string Transport { get { fixed (byte* p = transport) return NativeText.Decode(p, 16); } }
    }
}
