using System.Collections.Generic;
using RealTimeKqlLibrary;

namespace EbpfEventInterceptor.RealTimeKql
{
    /// <summary>
    /// RealTimeKql input of TCP events (libtcpEvent.so): stream "EbpfTcp", one row per event
    /// with the columns of <see cref="TcpEventColumns"/>.
    /// </summary>
    /// <example>
    /// var session = new EbpfTcpSession(new ConsoleJsonOutput(new ConsoleLogger()), "connections.kql");
    /// if (!session.Start()) return 1;   // ... later: session.Shutdown();
    /// </example>
    public sealed class EbpfTcpSession : EbpfSession<TcpEvent>
    {
        readonly TcpTracerOptions _options;

        /// <summary>A session with the environment's settings.</summary>
        public EbpfTcpSession(IOutput output, params string[] queries) : this(output, null, queries) { }

        /// <summary>A session with the tracer's <paramref name="options"/> (null: the environment's).</summary>
        public EbpfTcpSession(IOutput output, TcpTracerOptions options, params string[] queries)
            : base(output, "EbpfTcp", queries)
        {
            _options = options;
        }

        /// <inheritdoc/>
        protected override EventTracer<TcpEvent> OpenTracer() { return new TcpTracer(_options); }

        /// <inheritdoc/>
        protected override IDictionary<string, object> ToDictionary(TcpEvent item) { return TcpEventColumns.ToDictionary(item); }
    }
}
