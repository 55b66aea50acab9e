using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Threading;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>Cancellation, Dispose, one tracer per protocol, both protocols at once, options' environment.</summary>
    public static class LifecycleTests
    {
        public static void Register(TestRunner runner)
        {
            runner.Add("enumerable_cancellation_throws_promptly", Cancellation);
            runner.Add("enumerable_precancelled_token_throws_at_once", Precancelled);
            runner.Add("enumerable_ends_when_disposed_from_another_thread", EndsOnDispose);
            runner.Add("try_next_times_out_then_throws_after_dispose", TryNextAfterDispose);
            runner.Add("one_tracer_per_protocol_per_process", OnePerProtocol);
            runner.Add("tcp_and_udp_tracers_at_once", BothProtocols);
            runner.Add("options_reach_the_library_and_environment_is_restored", OptionsEnvironment);
        }

        // Matches nothing: the enumerations below wait in the library until stopped.
        static TcpTracerOptions Idle()
        {
            return new TcpTracerOptions { SnapshotInterval = TimeSpan.Zero, Filter = "comm=dn-nothing" };
        }

        static void Cancellation()
        {
            using (var tracer = new TcpTracer(Idle()))
            using (var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
            {
                var clock = Stopwatch.StartNew();
                Expect.Throws<OperationCanceledException>(() => tracer.Events(cancellation.Token).ToList(), "a cancelled enumeration");
                // 300 ms, plus at most one 100 ms native wait, plus scheduling slack.
                Expect.True(clock.ElapsedMilliseconds >= 290 && clock.ElapsedMilliseconds < 1500,
                    "cancelled after " + clock.ElapsedMilliseconds + " ms (want 300 ms + at most one 100 ms wait)");
                Expect.Equal(1u, tracer.Stats.Status, "cancelling an enumeration leaves the tracer running");
            }
        }

        static void Precancelled()
        {
            using (var tracer = new TcpTracer(Idle()))
            using (var cancellation = new CancellationTokenSource())
            {
                cancellation.Cancel();
                var clock = Stopwatch.StartNew();
                Expect.Throws<OperationCanceledException>(() => tracer.Events(cancellation.Token).First(), "an already cancelled token");
                Expect.True(clock.ElapsedMilliseconds < 50, "threw before waiting: " + clock.ElapsedMilliseconds + " ms");
            }
        }

        static void EndsOnDispose()
        {
            var tracer = new TcpTracer(Idle());
            int count = -1;
            Exception failure = null;
            var enumerating = new ManualResetEventSlim();
            var reader = new Thread(() =>
            {
                try
                {
                    enumerating.Set();
                    count = tracer.Events().Count();
                }
                catch (Exception e) { failure = e; }
            });
            reader.Start();
            enumerating.Wait();
            Thread.Sleep(200);
            var clock = Stopwatch.StartNew();
            tracer.Dispose();
            Expect.True(reader.Join(TimeSpan.FromSeconds(2)), "the enumeration ended after Dispose");
            Expect.True(clock.ElapsedMilliseconds < 1000, "it ended promptly: " + clock.ElapsedMilliseconds + " ms");
            Expect.True(failure == null, "it ended without an exception: " + failure);
            Expect.Equal(0, count, "no events");
            Expect.Equal(0, tracer.Events().Count(), "enumerating a disposed tracer yields nothing");
        }

        static void TryNextAfterDispose()
        {
            var tracer = new TcpTracer(Idle());
            TcpEvent e;
            Expect.Equal(false, tracer.TryNext(TimeSpan.FromMilliseconds(50), out e), "TryNext times out");
            tracer.Dispose();
            Expect.Throws<ObjectDisposedException>(() => tracer.TryNext(TimeSpan.Zero, out e), "TryNext after Dispose");
            Expect.Throws<ObjectDisposedException>(() => tracer.SetFilter(""), "SetFilter after Dispose");
            Expect.Equal(true, tracer.IsDisposed, "IsDisposed");
        }

        static void OnePerProtocol()
        {
            using (var first = new TcpTracer(Idle()))
            {
                var e = Expect.Throws<InvalidOperationException>(() => new TcpTracer(Idle()), "a second TcpTracer");
                Expect.True(e.Message.Contains("already running"), "says why: " + e.Message);
                Expect.Equal(1u, first.Stats.Status, "the first still runs");
            }
            using (var again = new TcpTracer(Idle()))
                Expect.Equal(1u, again.Stats.Status, "a new one starts after Dispose");
        }

        // The libraries export the same names (AddProbe, getStatus, cleanup): each DllImport
        // must bind to its own library.
        static void BothProtocols()
        {
            using (var tcp = new TcpTracer(new TcpTracerOptions { SnapshotInterval = TimeSpan.Zero, Filter = "comm=dn-both" }))
            using (var udp = new UdpTracer(new UdpTracerOptions { Filter = "comm=dn-both" }))
            {
                Expect.Equal(1u, tcp.Stats.Status, "TCP running");
                Expect.Equal(1u, udp.Stats.Status, "UDP running");
                var tcpReport = NamedThread.Run("dn-both", () => LoopbackTcp.Run(IPAddress.Loopback));
                NamedThread.Run("dn-both", () => LoopbackUdp.Run(IPAddress.Loopback));
                Expect.Equal(2, Collect.TcpCloses(tcp, tcpReport.ClientPort, tcpReport.ServerPort).Count, "TCP events");
                var udpEvents = Collect.Until(udp, seen => seen.Count(e => e.Kind == UdpEventKind.Close) == 2);
                Expect.Equal(12, udpEvents.Count, "UDP events (5 calls and a close per socket)");
                tcp.Dispose();
                Expect.Equal(0u, tcp.Stats.Status, "TCP stopped");
                Expect.Equal(1u, udp.Stats.Status, "UDP unaffected by TCP's cleanup");
            }
        }

        static void OptionsEnvironment()
        {
            Environment.SetEnvironmentVariable("EBPF_INTERCEPTOR_TRANSPORT", "ringbuf");
            try
            {
                using (var tracer = new TcpTracer(new TcpTracerOptions { Transport = Transport.PerfBuffer, Filter = "comm=dn-nothing" }))
                    Expect.Equal("perf", tracer.Stats.Transport, "the option beats the variable");
                Expect.Equal("ringbuf", Environment.GetEnvironmentVariable("EBPF_INTERCEPTOR_TRANSPORT"), "the variable is as it was");
                Expect.Equal(null, Environment.GetEnvironmentVariable("EBPF_INTERCEPTOR_TCP_FILTER"), "no filter variable left behind");
                using (var tracer = new TcpTracer(Idle()))
                    Expect.Equal("ringbuf", tracer.Stats.Transport, "without the option, the variable");
            }
            finally
            {
                Environment.SetEnvironmentVariable("EBPF_INTERCEPTOR_TRANSPORT", null);
            }
        }
    }
}
