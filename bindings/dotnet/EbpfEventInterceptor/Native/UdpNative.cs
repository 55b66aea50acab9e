using System;
using System.Runtime.InteropServices;

namespace EbpfEventInterceptor.Native
{
    /// <summary>
    /// P/Invoke declarations of libudpEvent.so (see <see cref="TcpNative"/> for what is left
    /// out and how "udpEvent" is resolved). UDP's AddProbe takes no argument.
    /// </summary>
    public static class UdpNative
    {
        /// <summary>The DllImport name the dllmap and the resolver map to a file.</summary>
        public const string Library = "udpEvent";

#if NETCOREAPP3_0_OR_GREATER
        static UdpNative() { LibraryResolver.Register(); }
#endif

        /// <summary>void AddProbe(void): starts tracing; returns at once.</summary>
        [DllImport(Library, EntryPoint = "AddProbe")]
        public static extern void AddProbe();

        /// <summary>uint32_t getStatus(void): 1 once attached, else 0.</summary>
        [DllImport(Library, EntryPoint = "getStatus")]
        public static extern uint GetStatus();

        /// <summary>void cleanup(void): detaches everything and releases blocked consumers.</summary>
        [DllImport(Library, EntryPoint = "cleanup")]
        public static extern void Cleanup();

        /// <summary>int32_t udpEvent_DequeueEx(struct udp_event_ex_t *event, size_t size, uint32_t timeout_ms).</summary>
        [DllImport(Library, EntryPoint = "udpEvent_DequeueEx")]
        public static extern int DequeueEx(out UdpEventEx e, UIntPtr size, uint timeoutMs);

        /// <summary>int32_t udpEvent_SetFilter(const char *spec): 0, or -1 (reason in GetLastError).</summary>
        [DllImport(Library, EntryPoint = "udpEvent_SetFilter")]
        public static extern int SetFilter(byte[] utf8Spec);

        /// <summary>int32_t udpEvent_GetStats(struct event_interceptor_stats *stats).</summary>
        [DllImport(Library, EntryPoint = "udpEvent_GetStats")]
        public static extern int GetStats(out InterceptorStatsNative stats);

        /// <summary>size_t udpEvent_GetLastError(char *buffer, size_t size): the message's length.</summary>
        [DllImport(Library, EntryPoint = "udpEvent_GetLastError")]
        public static extern UIntPtr GetLastError(byte[] buffer, UIntPtr size);

        /// <summary>int32_t udpEvent_GetLastErrorKind(void): see <see cref="InterceptorErrorKind"/>.</summary>
        [DllImport(Library, EntryPoint = "udpEvent_GetLastErrorKind")]
        public static extern int GetLastErrorKind();

        /// <summary>int32_t udpEvent_ProbeAttachPath(const char *path, char *reason, size_t size).</summary>
        [DllImport(Library, EntryPoint = "udpEvent_ProbeAttachPath")]
        public static extern int ProbeAttachPath(byte[] utf8Path, byte[] reason, UIntPtr size);
    }
}
