namespace EbpfEventInterceptor
{
    /// <summary>How records travel from the kernel (EBPF_INTERCEPTOR_TRANSPORT).</summary>
    public enum Transport
    {
        /// <summary>The BPF ring buffer ("ringbuf", the default).</summary>
        RingBuffer,

        /// <summary>Per-CPU perf buffers ("perf", the original's transport).</summary>
        PerfBuffer,
    }
}
