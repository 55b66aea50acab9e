using System;
using EbpfEventInterceptor.Native;

namespace EbpfEventInterceptor
{
    /// <summary>
    /// UDP traffic from libudpEvent.so: each socket's totals after every send or receive call
    /// that moves data (or at most once per coalescing interval), and at its close.
    /// Constructing it starts tracing; disposing it stops. One per process.
    /// </summary>
    public sealed class UdpTracer : EventTracer<UdpEvent>
    {
        /// <summary>Starts tracing with the environment's settings.</summary>
        public UdpTracer() : this(null) { }

        /// <summary>Starts tracing with <paramref name="options"/> (null: the environment's settings).</summary>
        public UdpTracer(UdpTracerOptions options)
            : base(UdpProtocol.Instance, options ?? new UdpTracerOptions(), "UdpTracer")
        {
        }

        /// <summary>
        /// The raw call: waits up to <paramref name="timeout"/> and fills <paramref name="raw"/>
        /// through udpEvent_DequeueEx. Returns its code (<see cref="DequeueResult"/>).
        /// </summary>
        public int DequeueRaw(out UdpEventEx raw, TimeSpan timeout)
        {
            if (IsDisposed) throw new ObjectDisposedException("UdpTracer");
            return UdpNative.DequeueEx(out raw, (UIntPtr)UdpEventEx.Size, ToMilliseconds(timeout));
        }

        internal override DequeueOutcome DequeueConverted(uint timeoutMs, out UdpEvent item)
        {
            UdpEventEx raw;
            int result = UdpNative.DequeueEx(out raw, (UIntPtr)UdpEventEx.Size, timeoutMs);
            item = result == DequeueResult.Event ? UdpEvent.FromRaw(raw) : null;
            return DequeueOutcomes.FromResult(result);
        }

        /// <summary>The library's last error, also when no tracer runs.</summary>
        public static LibraryError GetLastError() { return UdpProtocol.Instance.LastError(); }

        /// <summary>Whether attach path <paramref name="path"/> works on this kernel.</summary>
        public static AttachPathSupport ProbeAttachPath(string path, out string reason)
        {
            return UdpProtocol.Instance.Probe(path, out reason);
        }
    }
}
