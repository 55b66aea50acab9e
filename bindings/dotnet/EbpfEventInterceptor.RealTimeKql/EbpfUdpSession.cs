using System.Collections.Generic;
using RealTimeKqlLibrary;

namespace EbpfEventInterceptor.RealTimeKql
{
    /// <summary>
    /// RealTimeKql input of UDP events (libudpEvent.so): stream "EbpfUdp", one row per event
    /// with the columns of <see cref="UdpEventColumns"/>.
    /// </summary>
    public sealed class EbpfUdpSession : EbpfSession<UdpEvent>
    {
        readonly UdpTracerOptions _options;

        /// <summary>A session with the environment's settings.</summary>
        public EbpfUdpSession(IOutput output, params string[] queries) : this(output, null, queries) { }

        /// <summary>A session with the tracer's <paramref name="options"/> (null: the environment's).</summary>
        public EbpfUdpSession(IOutput output, UdpTracerOptions options, params string[] queries)
            : base(output, "EbpfUdp", queries)
        {
            _options = options;
        }

        /// <inheritdoc/>
        protected override EventTracer<UdpEvent> OpenTracer() { return new UdpTracer(_options); }

        /// <inheritdoc/>
        protected override IDictionary<string, object> ToDictionary(UdpEvent item) { return UdpEventColumns.ToDictionary(item); }
    }
}
