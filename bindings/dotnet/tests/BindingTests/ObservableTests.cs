using System;
using System.Linq;
using System.Net;
using System.Threading;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>The IObservable side: delivery, unsubscribing, a throwing observer, completion on Dispose.</summary>
    public static class ObservableTests
    {
        public static void Register(TestRunner runner)
        {
            runner.Add("observable_delivers_exact_events", Delivers);
            runner.Add("observable_unsubscribe_hands_back_to_enumerable", Unsubscribe);
            runner.Add("observable_throwing_observer_is_dropped", ThrowingObserver);
            runner.Add("observable_dispose_completes_once", DisposeCompletes);
        }

        static TcpTracerOptions Comm(string comm)
        {
            return new TcpTracerOptions { SnapshotInterval = TimeSpan.Zero, Filter = "comm=" + comm };
        }

        static bool BothCloses(System.Collections.Generic.List<TcpEvent> seen, TcpExchangeReport r)
        {
            return seen.Any(e => e.LocalPort == r.ClientPort) && seen.Any(e => e.LocalPort == r.ServerPort);
        }

        static void Delivers()
        {
            using (var tracer = new TcpTracer(Comm("dn-obs")))
            {
                var observer = new RecordingObserver<TcpEvent>();
                using (tracer.Subscribe(observer))
                {
                    var report = NamedThread.Run("dn-obs", () => LoopbackTcp.Run(IPAddress.Loopback));
                    var events = observer.WaitFor(seen => BothCloses(seen, report), "both closes through the observer");
                    ExpectedTcp.Check(Collect.CloseOf(events, report.ClientPort), Collect.CloseOf(events, report.ServerPort), report, IPAddress.Loopback, "dn-obs");
                    Expect.Equal(2, events.Count, "events delivered");
                    Expect.True(observer.DeliveryThread != Thread.CurrentThread && observer.DeliveryThread.IsBackground, "delivered on a background thread");
                }
                Expect.Equal(0, observer.Completed, "no completion while the tracer runs");
                Expect.True(observer.Error == null, "no error");
            }
        }

        // After the last observer leaves, events go to the enumerable again (the witness that
        // they were emitted), and the former observer gets none of them.
        static void Unsubscribe()
        {
            using (var tracer = new TcpTracer(Comm("dn-unsub")))
            {
                var observer = new RecordingObserver<TcpEvent>();
                var subscription = tracer.Subscribe(observer);
                var first = NamedThread.Run("dn-unsub", () => LoopbackTcp.Run(IPAddress.Loopback));
                observer.WaitFor(seen => BothCloses(seen, first), "first exchange through the observer");
                subscription.Dispose();
                var second = NamedThread.Run("dn-unsub", () => LoopbackTcp.Run(IPAddress.Loopback));
                var events = Collect.TcpCloses(tracer, second.ClientPort, second.ServerPort);
                Expect.Equal(2, events.Count, "second exchange through the enumerable");
                Expect.Equal(2, observer.Items.Count, "the unsubscribed observer got only the first exchange");
                Expect.Equal(0, observer.Completed, "unsubscribing does not complete");
            }
        }

        static void ThrowingObserver()
        {
            using (var tracer = new TcpTracer(Comm("dn-throw")))
            {
                var boom = new InvalidOperationException("observer failure");
                var throwing = new RecordingObserver<TcpEvent> { ThrowOnNext = boom };
                var steady = new RecordingObserver<TcpEvent>();
                using (tracer.Subscribe(throwing))
                using (tracer.Subscribe(steady))
                {
                    var report = NamedThread.Run("dn-throw", () => LoopbackTcp.Run(IPAddress.Loopback));
                    steady.WaitFor(seen => BothCloses(seen, report), "the other observer carries on");
                    Expect.Equal(1, throwing.Items.Count, "the throwing observer got one event, then was dropped");
                    Expect.True(ReferenceEquals(boom, throwing.Error), "it got its own exception through OnError");
                    Expect.Equal(2, steady.Items.Count, "the other observer got both events");
                }
            }
        }

        static void DisposeCompletes()
        {
            var tracer = new TcpTracer(Comm("dn-nothing"));
            var observer = new RecordingObserver<TcpEvent>();
            tracer.Subscribe(observer);
            tracer.Dispose();
            Expect.Equal(1, observer.Completed, "OnCompleted once the tracer is disposed");
            tracer.Dispose();
            Expect.Equal(1, observer.Completed, "a second Dispose completes nothing more");
            var late = new RecordingObserver<TcpEvent>();
            tracer.Subscribe(late);
            Expect.Equal(1, late.Completed, "subscribing to a disposed tracer completes at once");
            Expect.True(observer.Error == null && late.Error == null, "no errors");
        }
    }
}
