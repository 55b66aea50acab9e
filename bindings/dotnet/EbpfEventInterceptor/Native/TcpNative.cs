using System;
using System.Runtime.InteropServices;

namespace EbpfEventInterceptor.Native
{
    /// <summary>
    /// P/Invoke declarations of libtcpEvent.so: the original calls that take no struct by
    /// value, and the additive <c>tcpEvent_*</c> calls. <c>DequeuePerfEvent</c> is left out
    /// on purpose: it returns a packed 430-byte struct by value, which runtimes marshal
    /// differently; <see cref="DequeueEx"/> writes through a pointer instead.
    /// "tcpEvent" is resolved to /opt/RealTimeKql/lib/libtcpEvent.so by
    /// EbpfEventInterceptor.dll.config under Mono and by <see cref="LibraryResolver"/> on .NET.
    /// </summary>
    public static class TcpNative
    {
        /// <summary>The DllImport name the dllmap and the resolver map to a file.</summary>
        public const string Library = "tcpEvent";

#if NETCOREAPP3_0_OR_GREATER
        static TcpNative() { LibraryResolver.Register(); }
#endif

        /// <summary>void AddProbe(const char *bpf_program): starts tracing; returns at once.</summary>
        [DllImport(Library, EntryPoint = "AddProbe")]
        public static extern void AddProbe(IntPtr bpfProgram);

        /// <summary>uint32_t getStatus(void): 1 once attached, else 0.</summary>
        [DllImport(Library, EntryPoint = "getStatus")]
        public static extern uint GetStatus();

        /// <summary>void cleanup(void): detaches everything and releases blocked consumers.</summary>
        [DllImport(Library, EntryPoint = "cleanup")]
        public static extern void Cleanup();

        /// <summary>
        /// int32_t tcpEvent_DequeueEx(struct tcp_event_ex_t *event, size_t size, uint32_t timeout_ms).
        /// The struct is blittable, so <c>out</c> passes a pointer to it (pinned), no copy.
        /// </summary>
        [DllImport(Library, EntryPoint = "tcpEvent_DequeueEx")]
        public static extern int DequeueEx(out TcpEventEx e, UIntPtr size, uint timeoutMs);

        /// <summary>int32_t tcpEvent_SetFilter(const char *spec): 0, or -1 (reason in GetLastError).</summary>
        [DllImport(Library, EntryPoint = "tcpEvent_SetFilter")]
        public static extern int SetFilter(byte[] utf8Spec);

        /// <summary>int32_t tcpEvent_GetStats(struct event_interceptor_stats *stats).</summary>
        [DllImport(Library, EntryPoint = "tcpEvent_GetStats")]
        public static extern int GetStats(out InterceptorStatsNative stats);

        /// <summary>size_t tcpEvent_GetLastError(char *buffer, size_t size): the message's length.</summary>
        [DllImport(Library, EntryPoint = "tcpEvent_GetLastError")]
        public static extern UIntPtr GetLastError(byte[] buffer, UIntPtr size);

        /// <summary>int32_t tcpEvent_GetLastErrorKind(void): see <see cref="InterceptorErrorKind"/>.</summary>
        [DllImport(Library, EntryPoint = "tcpEvent_GetLastErrorKind")]
        public static extern int GetLastErrorKind();

        /// <summary>int32_t tcpEvent_ProbeAttachPath(const char *path, char *reason, size_t size).</summary>
        [DllImport(Library, EntryPoint = "tcpEvent_ProbeAttachPath")]
        public static extern int ProbeAttachPath(byte[] utf8Path, byte[] reason, UIntPtr size);
    }
}
