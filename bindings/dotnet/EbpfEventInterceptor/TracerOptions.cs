using System;
using System.Collections.Generic;
using System.Globalization;

namespace EbpfEventInterceptor
{
    /// <summary>
    /// Start settings both tracers share. Each one set here is handed to the library as its
    /// EBPF_INTERCEPTOR_* variable for the AddProbe call only (the C API's one channel for
    /// start settings), so it beats the same variable in the process environment; what is
    /// left null comes from that environment, as for any C consumer.
    /// </summary>
    public abstract class TracerOptions
    {
        /// <summary>
        /// The in-kernel filter: comma-separated pid=, uid=, comm=, port=, lport=, rport=,
        /// family=4|6, addr=CIDR, netns=, cgroup= terms (same key ORs, different keys AND).
        /// Null: the EBPF_INTERCEPTOR_*_FILTER variable if set, else everything.
        /// </summary>
        public string Filter { get; set; }

        /// <summary>Force an attach path ("fentry", "kprobe", "tp_btf", "raw_tp", "tracepoint"); null: the best the kernel has.</summary>
        public string AttachPath { get; set; }

        /// <summary>Ring buffer (default) or perf buffers.</summary>
        public Transport? Transport { get; set; }

        /// <summary>Sockets tracked at once (library default 65,536; 1 to 1,048,576).</summary>
        public int? MaxSockets { get; set; }

        /// <summary>How long the constructor waits for the programs to attach (default 30 s).</summary>
        public TimeSpan StartTimeout { get; set; }

        /// <summary>Defaults: nothing set, 30 s start timeout.</summary>
        protected TracerOptions()
        {
            StartTimeout = TimeSpan.FromSeconds(30);
        }

        /// <summary>The variables for AddProbe; <paramref name="protocol"/> is "TCP" or "UDP".</summary>
        internal IDictionary<string, string> ToEnvironment(string protocol)
        {
            var variables = new Dictionary<string, string>();
            string prefix = "EBPF_INTERCEPTOR_" + protocol + "_";
            if (Filter != null) variables[prefix + "FILTER"] = Filter;
            if (AttachPath != null) variables[prefix + "ATTACH"] = AttachPath;
            if (MaxSockets.HasValue) variables[prefix + "MAX_SOCKETS"] = MaxSockets.Value.ToString(CultureInfo.InvariantCulture);
            if (Transport.HasValue)
                variables["EBPF_INTERCEPTOR_TRANSPORT"] = Transport.Value == EbpfEventInterceptor.Transport.PerfBuffer ? "perf" : "ringbuf";
            AddProtocolVariables(variables, prefix);
            return variables;
        }

        /// <summary>The protocol's own variables.</summary>
        internal abstract void AddProtocolVariables(IDictionary<string, string> variables, string prefix);
    }
}
