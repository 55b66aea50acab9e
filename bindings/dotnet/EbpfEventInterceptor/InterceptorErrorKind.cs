namespace EbpfEventInterceptor
{
    /// <summary>What <c>*_GetLastErrorKind</c> reports (EVENT_INTERCEPTOR_NO_ERROR ... _ERROR_OTHER).</summary>
    public enum InterceptorErrorKind
    {
        /// <summary>No error.</summary>
        None = 0,

        /// <summary>Missing privilege: root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN.</summary>
        Permission = 1,

        /// <summary>A bad environment variable or filter spec.</summary>
        InvalidArgument = 2,

        /// <summary>The kernel lacks what every attach path needs.</summary>
        Unsupported = 3,

        /// <summary>Any other failure.</summary>
        Other = 4,
    }
}
