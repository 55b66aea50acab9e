using System;
using EbpfEventInterceptor.Native;

namespace EbpfEventInterceptor
{
    /// <summary>
    /// TCP connections from libtcpEvent.so: one event per connection that closes (or fails
    /// to connect), and snapshots of live connections. Constructing it starts tracing (and
    /// throws the library's error if that fails); disposing it stops. One per process.
    /// </summary>
    /// <example>
    /// using (var tracer = new TcpTracer())
    ///     foreach (TcpEvent e in tracer.Events(cancellation)) Console.WriteLine(e);
    /// </example>
    public sealed class TcpTracer : EventTracer<TcpEvent>
    {
        /// <summary>Starts tracing with the environment's settings.</summary>
        public TcpTracer() : this(null) { }

        /// <summary>Starts tracing with <paramref name="options"/> (null: the environment's settings).</summary>
        public TcpTracer(TcpTracerOptions options)
            : base(TcpProtocol.Instance, options ?? new TcpTracerOptions(), "TcpTracer")
        {
        }

        /// <summary>
        /// The raw call: waits up to <paramref name="timeout"/> and fills <paramref name="raw"/>
        /// through tcpEvent_DequeueEx. Returns its code (<see cref="DequeueResult"/>).
        /// </summary>
        public int DequeueRaw(out TcpEventEx raw, TimeSpan timeout)
        {
            if (IsDisposed) throw new ObjectDisposedException("TcpTracer");
            return TcpNative.DequeueEx(out raw, (UIntPtr)TcpEventEx.Size, ToMilliseconds(timeout));
        }

        internal override DequeueOutcome DequeueConverted(uint timeoutMs, out TcpEvent item)
        {
            TcpEventEx raw;
            int result = TcpNative.DequeueEx(out raw, (UIntPtr)TcpEventEx.Size, timeoutMs);
            item = result == DequeueResult.Event ? TcpEvent.FromRaw(raw) : null;
            return DequeueOutcomes.FromResult(result);
        }

        /// <summary>The library's last error, also when no tracer runs (e.g. after a failed start).</summary>
        public static LibraryError GetLastError() { return TcpProtocol.Instance.LastError(); }

        /// <summary>
        /// Whether attach path <paramref name="path"/> ("fentry", "kprobe", "tp_btf", "raw_tp",
        /// "tracepoint") works on this kernel, without touching a running tracer.
        /// </summary>
        public static AttachPathSupport ProbeAttachPath(string path, out string reason)
        {
            return TcpProtocol.Instance.Probe(path, out reason);
        }
    }
}
