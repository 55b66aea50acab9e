using System;
using System.Collections.Generic;
using System.Threading;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>An observer that records what it is given, and can be made to throw.</summary>
    public sealed class RecordingObserver<T> : IObserver<T>
    {
        readonly object _gate = new object();
        readonly List<T> _items = new List<T>();
        public int Completed;
        public Exception Error;
        public Exception ThrowOnNext;
        public Thread DeliveryThread;

        public void OnNext(T value)
        {
            lock (_gate)
            {
                _items.Add(value);
                DeliveryThread = Thread.CurrentThread;
                Monitor.PulseAll(_gate);
            }
            if (ThrowOnNext != null) throw ThrowOnNext;
        }

        public void OnError(Exception error)
        {
            lock (_gate) { Error = error; Monitor.PulseAll(_gate); }
        }

        public void OnCompleted()
        {
            lock (_gate) { Completed++; Monitor.PulseAll(_gate); }
        }

        public List<T> Items { get { lock (_gate) return new List<T>(_items); } }

        /// <summary>Waits up to 15 s until <paramref name="done"/> holds for what came.</summary>
        public List<T> WaitFor(Func<List<T>, bool> done, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            lock (_gate)
            {
                while (!done(_items))
                {
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero || !Monitor.Wait(_gate, left) && !done(_items))
                        throw new ExpectationFailed(what + ": not within 15 s; came " + _items.Count + ": " + string.Join("; ", _items));
                }
                return new List<T>(_items);
            }
        }
    }
}
