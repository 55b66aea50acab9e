namespace EbpfEventInterceptor.Native
{
    /// <summary>Return codes of <c>*_DequeueEx</c> (EVENT_INTERCEPTOR_* in the headers).</summary>
    public static class DequeueResult
    {
        /// <summary>EVENT_INTERCEPTOR_EVENT: an event was written.</summary>
        public const int Event = 1;

        /// <summary>EVENT_INTERCEPTOR_TIMED_OUT: the timeout passed; the struct is zeroed.</summary>
        public const int TimedOut = 0;

        /// <summary>EVENT_INTERCEPTOR_CLEANED_UP: cleanup() ran before or during the wait.</summary>
        public const int CleanedUp = -1;

        /// <summary>EVENT_INTERCEPTOR_INVALID_ARGUMENT: NULL, or a size below 8.</summary>
        public const int InvalidArgument = -2;
    }
}
