using System;
using System.Collections.Generic;
using System.Globalization;

namespace EbpfEventInterceptor
{
    /// <summary>Start settings of a <see cref="UdpTracer"/>.</summary>
    public sealed class UdpTracerOptions : TracerOptions
    {
        /// <summary>
        /// At most one event per socket per this interval, plus its close
        /// (EBPF_INTERCEPTOR_UDP_COALESCE_MS, whole milliseconds); <see cref="TimeSpan.Zero"/>:
        /// one event per call; null: the variable, else one event per call.
        /// </summary>
        public TimeSpan? CoalesceInterval { get; set; }

        internal override void AddProtocolVariables(IDictionary<string, string> variables, string prefix)
        {
            if (CoalesceInterval.HasValue)
                variables[prefix + "COALESCE_MS"] = ((long)CoalesceInterval.Value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        }
    }
}
