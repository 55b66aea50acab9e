namespace EbpfEventInterceptor
{
    /// <summary>What <c>*_ProbeAttachPath</c> found out about one attach path.</summary>
    public enum AttachPathSupport
    {
        /// <summary>-1: could not ask (unknown path name, no privilege).</summary>
        CannotProbe = -1,

        /// <summary>0: the kernel lacks it (the reason says why).</summary>
        Unsupported = 0,

        /// <summary>1: it loads and attaches here.</summary>
        Supported = 1,
    }
}
