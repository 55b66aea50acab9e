using EbpfEventInterceptor.Native;

namespace EbpfEventInterceptor
{
    /// <summary>
    /// A session's counters (<c>struct event_interceptor_stats</c>; README "Counters").
    /// With the queue drained and the tracer disposed:
    /// KernelEmitted == Delivered + Shed + Queued + Discarded + Malformed.
    /// Counters are long (they never approach 2^63) so they mix with the rest of .NET.
    /// </summary>
    public sealed class InterceptorStats
    {
        /// <summary>Events returned to consumers.</summary>
        public long Delivered { get; private set; }
        /// <summary>Events waiting in the queue now.</summary>
        public long Queued { get; private set; }
        /// <summary>Oldest events dropped because the 1024-event queue was full.</summary>
        public long Shed { get; private set; }
        /// <summary>Events still queued when the session was cleaned up.</summary>
        public long Discarded { get; private set; }
        /// <summary>Records lost between kernel and user space.</summary>
        public long Lost { get; private set; }
        /// <summary>Kernel-side updates refused because a per-socket map was full.</summary>
        public long MapFull { get; private set; }
        /// <summary>Events whose owning process was never seen.</summary>
        public long OwnerUnknown { get; private set; }
        /// <summary>Records the BPF programs handed to the ring or perf buffer.</summary>
        public long KernelEmitted { get; private set; }
        /// <summary>Records user space could not parse.</summary>
        public long Malformed { get; private set; }
        /// <summary>Periodic kernel-side passes that failed.</summary>
        public long PeriodicFailures { get; private set; }
        /// <summary>getStatus(): 1 while running.</summary>
        public uint Status { get; private set; }
        /// <summary>The attach path in use ("tp_btf", "fentry", ...).</summary>
        public string AttachPath { get; private set; }
        /// <summary>"ringbuf" or "perf".</summary>
        public string Transport { get; private set; }

        internal InterceptorStats(InterceptorStatsNative raw)
        {
            Delivered = (long)raw.delivered;
            Queued = (long)raw.queued;
            Shed = (long)raw.shed;
            Discarded = (long)raw.discarded;
            Lost = (long)raw.lost;
            MapFull = (long)raw.map_full;
            OwnerUnknown = (long)raw.owner_unknown;
            KernelEmitted = (long)raw.kernel_emitted;
            Malformed = (long)raw.malformed;
            PeriodicFailures = (long)raw.periodic_failures;
            Status = raw.status;
            AttachPath = raw.AttachPath;
            Transport = raw.Transport;
        }

        /// <inheritdoc/>
        public override string ToString()
        {
            return string.Format(
                "delivered={0} queued={1} shed={2} discarded={3} lost={4} map_full={5} owner_unknown={6} kernel_emitted={7} malformed={8} periodic_failures={9} status={10} attach_path={11} transport={12}",
                Delivered, Queued, Shed, Discarded, Lost, MapFull, OwnerUnknown, KernelEmitted, Malformed, PeriodicFailures, Status, AttachPath, Transport);
        }
    }
}
