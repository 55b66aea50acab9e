using System;
using System.Collections.Generic;
using System.Globalization;

namespace EbpfEventInterceptor
{
    /// <summary>Start settings of a <see cref="TcpTracer"/>.</summary>
    public sealed class TcpTracerOptions : TracerOptions
    {
        /// <summary>
        /// Interval of the live-connection snapshots (EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS);
        /// <see cref="TimeSpan.Zero"/> turns them off; null: the variable, else 6 s.
        /// </summary>
        public TimeSpan? SnapshotInterval { get; set; }

        internal override void AddProtocolVariables(IDictionary<string, string> variables, string prefix)
        {
            if (SnapshotInterval.HasValue)
                variables[prefix + "SNAPSHOT_SECS"] = SnapshotInterval.Value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        }
    }
}
