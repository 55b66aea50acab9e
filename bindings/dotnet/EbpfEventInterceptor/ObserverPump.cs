using System;
using System.Threading;

namespace EbpfEventInterceptor
{
    /// <summary>
    /// A tracer's IObservable side: while anyone is subscribed, one background thread takes
    /// events from the library and hands each to every observer, on that thread, in order
    /// (like RealTimeKql's Observable.Broadcast). The thread ends when the last observer
    /// leaves, so the enumerable side can take over; an event it had already taken then
    /// (its wait in the library cannot be interrupted) is handed back to the tracer for the
    /// next taker, never dropped. When the tracer is disposed every observer gets
    /// OnCompleted once. An observer whose OnNext throws is unsubscribed and given that
    /// exception through OnError; the others carry on.
    /// </summary>
    internal sealed class ObserverPump<TEvent>
    {
        /// <summary>Longest wait before the thread looks whether anyone is still subscribed.</summary>
        static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(100);

        readonly object _gate = new object();
        readonly Dequeue<TEvent> _dequeue;
        readonly Action<TEvent> _undelivered;
        readonly string _threadName;
        IObserver<TEvent>[] _observers = new IObserver<TEvent>[0];
        Thread _thread;
        bool _completed;

        internal ObserverPump(Dequeue<TEvent> dequeue, Action<TEvent> undelivered, string threadName)
        {
            _dequeue = dequeue;
            _undelivered = undelivered;
            _threadName = threadName;
        }

        /// <summary>Adds an observer (starting the thread if needed); disposing the result removes it.</summary>
        internal IDisposable Subscribe(IObserver<TEvent> observer)
        {
            if (observer == null) throw new ArgumentNullException("observer");
            lock (_gate)
            {
                if (!_completed)
                {
                    var grown = new IObserver<TEvent>[_observers.Length + 1];
                    _observers.CopyTo(grown, 0);
                    grown[_observers.Length] = observer;
                    _observers = grown;
                    if (_thread == null)
                    {
                        _thread = new Thread(Run) { IsBackground = true, Name = _threadName };
                        _thread.Start();
                    }
                    return new Subscription(this, observer);
                }
            }
            // Subscribing to a disposed tracer: the sequence is already over.
            observer.OnCompleted();
            return new Subscription(this, null);
        }

        void Unsubscribe(IObserver<TEvent> observer)
        {
            lock (_gate)
            {
                int index = Array.IndexOf(_observers, observer);
                if (index < 0) return;
                var shrunk = new IObserver<TEvent>[_observers.Length - 1];
                Array.Copy(_observers, 0, shrunk, 0, index);
                Array.Copy(_observers, index + 1, shrunk, index, _observers.Length - index - 1);
                _observers = shrunk;
            }
        }

        void Run()
        {
            while (true)
            {
                lock (_gate)
                {
                    if (_observers.Length == 0 || _completed)
                    {
                        _thread = null;
                        return;
                    }
                }
                TEvent item;
                DequeueOutcome outcome = _dequeue(Slice, out item);
                if (outcome == DequeueOutcome.Closed)
                {
                    Complete();
                    return;
                }
                if (outcome == DequeueOutcome.Event) Deliver(item);
            }
        }

        void Deliver(TEvent item)
        {
            IObserver<TEvent>[] observers;
            lock (_gate) observers = _observers;
            if (observers.Length == 0)
            {
                _undelivered(item);
                return;
            }
            foreach (var observer in observers)
            {
                try
                {
                    observer.OnNext(item);
                }
                catch (Exception e)
                {
                    Unsubscribe(observer);
                    observer.OnError(e);
                }
            }
        }

        /// <summary>
        /// Ends the sequence: OnCompleted to every observer, once. Called by the thread when
        /// the library reports cleanup, or by the tracer's Dispose when no thread runs.
        /// </summary>
        internal void Complete()
        {
            IObserver<TEvent>[] observers;
            lock (_gate)
            {
                if (_completed) return;
                _completed = true;
                observers = _observers;
                _observers = new IObserver<TEvent>[0];
                if (_thread == Thread.CurrentThread) _thread = null;
            }
            foreach (var observer in observers) observer.OnCompleted();
        }

        /// <summary>The delivering thread, if one runs (for Dispose to wait for it).</summary>
        internal Thread RunningThread
        {
            get { lock (_gate) return _thread; }
        }

        sealed class Subscription : IDisposable
        {
            ObserverPump<TEvent> _pump;
            readonly IObserver<TEvent> _observer;

            internal Subscription(ObserverPump<TEvent> pump, IObserver<TEvent> observer)
            {
                _pump = pump;
                _observer = observer;
            }

            public void Dispose()
            {
                var pump = Interlocked.Exchange(ref _pump, null);
                if (pump != null && _observer != null) pump.Unsubscribe(_observer);
            }
        }
    }
}
