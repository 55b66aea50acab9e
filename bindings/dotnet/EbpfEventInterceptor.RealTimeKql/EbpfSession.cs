using System;
using System.Collections.Generic;
using System.Threading;
using RealTimeKqlLibrary;

namespace EbpfEventInterceptor.RealTimeKql
{
    /// <summary>
    /// A RealTimeKql input over one of the tracers, written the way RealTimeKql's own inputs
    /// (CsvFileReader, EtwSession) are: an EventComponent subclass with its own
    /// Observable&lt;IDictionary&lt;string, object&gt;&gt;, handed to the protected
    /// Start(stream, name, realTimeMode) before a reader thread Broadcast()s one dictionary
    /// per event. The KQL pipeline and the output run on that reader thread.
    ///
    /// Stopping: <see cref="Shutdown"/> (or Dispose) stops the reader, disposes the tracer,
    /// completes the stream, then calls EventComponent.Stop() once. Stop() itself is not
    /// virtual and not idempotent in RealTimeKql 2.2.4, and its 2.2.4 base keeps its running
    /// flag private, so this class keeps its own.
    /// </summary>
    public abstract class EbpfSession<TEvent> : EventComponent, IDisposable where TEvent : class
    {
        readonly Observable<IDictionary<string, object>> _eventStream = new Observable<IDictionary<string, object>>();
        readonly ManualResetEvent _readerDone = new ManualResetEvent(false);
        readonly CancellationTokenSource _stopReading = new CancellationTokenSource();
        readonly string _streamName;
        EventTracer<TEvent> _tracer;
        Thread _reader;
        long _eventsPushed;
        int _shutdown;

        /// <param name="output">Where RealTimeKql writes results (ConsoleJsonOutput, AdxOutput, ...).</param>
        /// <param name="streamName">The input's name in the KQL pipeline.</param>
        /// <param name="queries">Query FILE paths (.kql), as RealTimeKql takes them; none: every event goes to the output.</param>
        protected EbpfSession(IOutput output, string streamName, params string[] queries) : base(output, queries)
        {
            _streamName = streamName;
        }

        /// <summary>Stop reading after this many events (0: no limit); <see cref="ReaderDone"/> is then set.</summary>
        public long MaxEvents { get; set; }

        /// <summary>Events broadcast into the pipeline so far.</summary>
        public long EventsPushed { get { return Interlocked.Read(ref _eventsPushed); } }

        /// <summary>Set when the reader thread ended (MaxEvents reached, Shutdown, or an error).</summary>
        public WaitHandle ReaderDone { get { return _readerDone; } }

        /// <summary>Why Start() returned false or the reader ended early; null if it did not.</summary>
        public Exception Error { get; private set; }

        /// <summary>The tracer (null before Start; disposed after Shutdown, when its Stats are the final counters).</summary>
        public EventTracer<TEvent> Tracer { get { return _tracer; } }

        /// <summary>Starts the tracer this session reads (throws the library's error).</summary>
        protected abstract EventTracer<TEvent> OpenTracer();

        /// <summary>One event as RealTimeKql's row: DateTime, long and string values.</summary>
        protected abstract IDictionary<string, object> ToDictionary(TEvent item);

        /// <summary>
        /// Loads the query files, starts the tracer, then the reader. Returns false, with the
        /// reason given to the output's OutputError and kept in <see cref="Error"/>, if either fails.
        /// </summary>
        public override bool Start()
        {
            // realTimeMode true, as RealTimeKql's live inputs: also registers getprocessname().
            if (!Start(_eventStream, _streamName, true))
            {
                Error = new InvalidOperationException("RealTimeKql could not load the queries (see the output's error)");
                return false;
            }
            try
            {
                _tracer = OpenTracer();
            }
            catch (Exception e)
            {
                Error = e;
                _output.OutputError(e);
                return false;
            }
            _reader = new Thread(ReadEvents)
            {
                // A reader that outlives Shutdown must never keep the process alive.
                IsBackground = true,
                Name = "ebpf-" + _streamName + "-reader",
            };
            _reader.Start();
            return true;
        }

        void ReadEvents()
        {
            try
            {
                foreach (TEvent item in _tracer.Events(_stopReading.Token))
                {
                    _eventStream.Broadcast(ToDictionary(item));
                    long pushed = Interlocked.Increment(ref _eventsPushed);
                    if (MaxEvents > 0 && pushed >= MaxEvents) break;
                }
            }
            catch (OperationCanceledException)
            {
                // Shutdown asked the reader to stop.
            }
            catch (Exception e)
            {
                Error = e;
                _output.OutputError(e);
            }
            finally
            {
                _readerDone.Set();
            }
        }

        /// <summary>
        /// Stops in the order that loses nothing already read: the reader ends (waiting for
        /// the event in flight to pass through the pipeline), the tracer is disposed, the
        /// stream completes (a summarize that is a query's first operator emits its open
        /// window then), then EventComponent.Stop() tells the output it is over. Once only.
        /// </summary>
        public void Shutdown()
        {
            if (Interlocked.Exchange(ref _shutdown, 1) != 0) return;
            _stopReading.Cancel();
            if (_reader != null && _reader != Thread.CurrentThread) _reader.Join();
            if (_tracer != null) _tracer.Dispose();
            _eventStream.BroadcastOnCompleted();
            Stop();
        }

        /// <summary>Same as <see cref="Shutdown"/>.</summary>
        public void Dispose()
        {
            Shutdown();
        }
    }
}
