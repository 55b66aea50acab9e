using System;
using System.Collections.Generic;
using System.Threading;

namespace EbpfEventInterceptor
{
    /// <summary>
    /// A running session of one library: what <see cref="TcpTracer"/> and
    /// <see cref="UdpTracer"/> share. Events come out three ways, all taking from the same
    /// queue (each event goes to one taker): <see cref="TryNext"/>, the blocking enumerable
    /// <see cref="Events"/>, and <see cref="Subscribe"/>. Disposing detaches the programs,
    /// ends every enumeration and completes every observer.
    /// </summary>
    public abstract class EventTracer<TEvent> : IObservable<TEvent>, IDisposable where TEvent : class
    {
        /// <summary>
        /// Longest single wait inside the library while enumerating: the native wait cannot be
        /// woken by a CancellationToken, so this bounds how late a cancellation is noticed.
        /// </summary>
        static readonly TimeSpan CancellationSlice = TimeSpan.FromMilliseconds(100);

        readonly NativeProtocol _protocol;
        readonly ObserverPump<TEvent> _pump;
        // Events the observer thread took after its last observer left: the next taker gets them first.
        readonly Queue<TEvent> _returned = new Queue<TEvent>();
        int _disposed;

        internal EventTracer(NativeProtocol protocol, TracerOptions options, string tracerName)
        {
            _protocol = protocol;
            protocol.Start(options, tracerName);
            _pump = new ObserverPump<TEvent>(Take, Return, "ebpf-" + protocol.Name.ToLowerInvariant() + "-observers");
        }

        /// <summary>Whether <see cref="Dispose"/> ran.</summary>
        public bool IsDisposed { get { return Volatile.Read(ref _disposed) != 0; } }

        /// <summary>One wait in the library; <paramref name="timeoutMs"/> is what DequeueEx gets.</summary>
        internal abstract DequeueOutcome DequeueConverted(uint timeoutMs, out TEvent item);

        DequeueOutcome Take(TimeSpan timeout, out TEvent item)
        {
            item = null;
            // After Dispose another tracer may own the library's queue: never take from it.
            if (IsDisposed) return DequeueOutcome.Closed;
            lock (_returned)
            {
                if (_returned.Count > 0)
                {
                    item = _returned.Dequeue();
                    return DequeueOutcome.Event;
                }
            }
            DequeueOutcome outcome = DequeueConverted(ToMilliseconds(timeout), out item);
            return outcome == DequeueOutcome.Closed || IsDisposed ? DequeueOutcome.Closed : outcome;
        }

        /// <summary>Keeps an event nobody was subscribed for when it came, for the next taker.</summary>
        void Return(TEvent item)
        {
            lock (_returned) _returned.Enqueue(item);
        }

        /// <summary>The native wait's argument: whole milliseconds, at most uint.MaxValue (about 49 days).</summary>
        internal static uint ToMilliseconds(TimeSpan timeout)
        {
            if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException("timeout", "a wait cannot be negative");
            double ms = Math.Ceiling(timeout.TotalMilliseconds);
            return ms >= uint.MaxValue ? uint.MaxValue : (uint)ms;
        }

        /// <summary>
        /// Waits up to <paramref name="timeout"/> for the next event: true with it, false if
        /// none came. Throws ObjectDisposedException once the tracer is disposed (also when
        /// that happens during the wait).
        /// </summary>
        public bool TryNext(TimeSpan timeout, out TEvent item)
        {
            DequeueOutcome outcome = Take(timeout, out item);
            if (outcome == DequeueOutcome.Closed) throw new ObjectDisposedException(GetType().Name);
            return outcome == DequeueOutcome.Event;
        }

        /// <summary>
        /// Events as they come, blocking between them. Ends when the tracer is disposed (from
        /// any thread); a cancellation throws OperationCanceledException within about 100 ms,
        /// as .NET's own blocking enumerables do.
        /// </summary>
        public IEnumerable<TEvent> Events(CancellationToken cancellation = default(CancellationToken))
        {
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                TEvent item;
                DequeueOutcome outcome = Take(CancellationSlice, out item);
                if (outcome == DequeueOutcome.Closed) yield break;
                if (outcome == DequeueOutcome.Event) yield return item;
            }
        }

        /// <summary>
        /// Pushes every event to <paramref name="observer"/> on a background thread until
        /// the subscription or the tracer is disposed (then OnCompleted). See ObserverPump
        /// for ordering and errors. Use this or the enumerable, not both at once.
        /// </summary>
        public IDisposable Subscribe(IObserver<TEvent> observer)
        {
            return _pump.Subscribe(observer);
        }

        /// <summary>The session's counters now (after Dispose: the final ones).</summary>
        public InterceptorStats Stats { get { return _protocol.Stats(); } }

        /// <summary>The library's last error (for example why the last SetFilter failed).</summary>
        public LibraryError LastError { get { return _protocol.LastError(); } }

        /// <summary>
        /// Replaces the in-kernel filter at once, without a restart; null or "" lets
        /// everything through. A bad spec changes nothing and throws ArgumentException with
        /// the library's reason, which names the offending term.
        /// </summary>
        public void SetFilter(string spec)
        {
            if (IsDisposed) throw new ObjectDisposedException(GetType().Name);
            _protocol.ApplyFilter(spec);
        }

        /// <summary>
        /// Detaches the programs (cleanup()), ends enumerations, completes observers, and lets
        /// a new tracer of this protocol start. Safe to call more than once and from any
        /// thread, including an observer's OnNext.
        /// </summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            _protocol.Cleanup();
            Thread pumpThread = _pump.RunningThread;
            // The thread sees "cleaned up" and completes the observers itself.
            if (pumpThread != null && pumpThread != Thread.CurrentThread) pumpThread.Join();
            _pump.Complete();
            _protocol.Release();
        }
    }
}
