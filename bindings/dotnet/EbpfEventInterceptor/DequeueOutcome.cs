using System;

namespace EbpfEventInterceptor
{
    /// <summary>What one wait for an event ended with.</summary>
    internal enum DequeueOutcome
    {
        /// <summary>An event came.</summary>
        Event,

        /// <summary>The wait's time passed.</summary>
        TimedOut,

        /// <summary>The tracer was disposed (before or during the wait).</summary>
        Closed,
    }

    /// <summary>The library's DequeueEx codes as outcomes.</summary>
    internal static class DequeueOutcomes
    {
        internal static DequeueOutcome FromResult(int result)
        {
            switch (result)
            {
                case Native.DequeueResult.Event: return DequeueOutcome.Event;
                case Native.DequeueResult.TimedOut: return DequeueOutcome.TimedOut;
                case Native.DequeueResult.CleanedUp: return DequeueOutcome.Closed;
                // -2 means a NULL pointer or a size below 8: a bug in this binding.
                default: throw new InvalidOperationException("DequeueEx returned " + result + " (invalid argument)");
            }
        }
    }

    /// <summary>One wait of at most <paramref name="timeout"/> for the next event.</summary>
    internal delegate DequeueOutcome Dequeue<TEvent>(TimeSpan timeout, out TEvent item);
}
