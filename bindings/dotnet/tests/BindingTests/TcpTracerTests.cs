using System;
using System.Linq;
using System.Net;
using EbpfEventInterceptor.Native;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>TcpTracer over real loopback connections made by this process: exact values, filters, the raw call.</summary>
    public static class TcpTracerTests
    {
        /// <summary>Close events only (no snapshot of a test connection), and only this process's.</summary>
        static TcpTracerOptions OwnCloses()
        {
            return new TcpTracerOptions { SnapshotInterval = TimeSpan.Zero, Filter = "pid=" + ThreadIdentity.Pid };
        }

        public static void Register(TestRunner runner)
        {
            runner.Add("tcp_ipv4_exact_values", () => ExactValues(IPAddress.Loopback, "dn-tcp4"));
            runner.Add("tcp_ipv6_exact_values", () => ExactValues(IPAddress.IPv6Loopback, "dn-tcp6"));
            runner.Add("tcp_filter_selects_in_kernel", FilterSelects);
            runner.Add("tcp_filter_replaced_while_running", FilterReplaced);
            runner.Add("tcp_bad_filter_argument_exception", BadFilter);
            runner.Add("tcp_dequeue_raw_sizes", DequeueRawSizes);
            runner.Add("tcp_stats_identity_and_attach_path", StatsIdentity);
        }

        static void ExactValues(IPAddress loopback, string comm)
        {
            using (var tracer = new TcpTracer(OwnCloses()))
            {
                var report = NamedThread.Run(comm, () => LoopbackTcp.Run(loopback));
                var events = Collect.TcpCloses(tracer, report.ClientPort, report.ServerPort);
                ExpectedTcp.Check(Collect.CloseOf(events, report.ClientPort), Collect.CloseOf(events, report.ServerPort), report, loopback, comm);
                Expect.Equal(2, events.Count, "events of this process: one close per socket");
            }
        }

        // A connection the filter excludes, then one it keeps: the queue is in order, so had
        // the first passed, its events would have come before the second's.
        static void FilterSelects()
        {
            using (var tracer = new TcpTracer(new TcpTracerOptions { SnapshotInterval = TimeSpan.Zero, Filter = "comm=dn-keep" }))
            {
                var dropped = NamedThread.Run("dn-drop", () => LoopbackTcp.Run(IPAddress.Loopback));
                var kept = NamedThread.Run("dn-keep", () => LoopbackTcp.Run(IPAddress.Loopback));
                var events = Collect.TcpCloses(tracer, kept.ClientPort, kept.ServerPort);
                Expect.Equal(2, events.Count, "events passing comm=dn-keep: " + string.Join("; ", events));
                Expect.True(events.All(e => e.Comm == "dn-keep"), "only dn-keep's events");
                Expect.True(events.All(e => e.LocalPort != dropped.ClientPort && e.LocalPort != dropped.ServerPort), "none of dn-drop's sockets");
            }
        }

        static void FilterReplaced()
        {
            using (var tracer = new TcpTracer(new TcpTracerOptions { SnapshotInterval = TimeSpan.Zero, Filter = "comm=dn-first" }))
            {
                tracer.SetFilter("comm=dn-second");
                var first = NamedThread.Run("dn-first", () => LoopbackTcp.Run(IPAddress.Loopback));
                var second = NamedThread.Run("dn-second", () => LoopbackTcp.Run(IPAddress.Loopback));
                var events = Collect.TcpCloses(tracer, second.ClientPort, second.ServerPort);
                Expect.Equal(2, events.Count, "events after SetFilter(comm=dn-second): " + string.Join("; ", events));
                Expect.True(events.All(e => e.Comm == "dn-second"), "only dn-second's events");
                Expect.True(events.All(e => e.LocalPort != first.ClientPort && e.LocalPort != first.ServerPort), "none of dn-first's sockets");
            }
        }

        static void BadFilter()
        {
            using (var tracer = new TcpTracer(OwnCloses()))
            {
                var e = Expect.Throws<ArgumentException>(() => tracer.SetFilter("port=80,colour=red"), "SetFilter with an unknown key");
                Expect.True(e.Message.StartsWith("filter term \"colour=red\": unknown key \"colour\""), "message names the term: " + e.Message);
                Expect.Equal(InterceptorErrorKind.InvalidArgument, (InterceptorErrorKind)e.Data["Kind"], "exception's kind");
                Expect.Equal(e.Message, tracer.LastError.Message, "the exception carries GetLastError's text");
                Expect.Equal(InterceptorErrorKind.InvalidArgument, tracer.LastError.Kind, "GetLastErrorKind");
                Expect.Equal(2, TcpNative.GetLastErrorKind(), "tcpEvent_GetLastErrorKind() itself");
                // Nothing changed: this process's connections still come through.
                var report = NamedThread.Run("dn-after-bad", () => LoopbackTcp.Run(IPAddress.Loopback));
                Expect.Equal(2, Collect.TcpCloses(tracer, report.ClientPort, report.ServerPort).Count, "events after a refused filter");
            }
            var start = Expect.Throws<ArgumentException>(() => new TcpTracer(new TcpTracerOptions { Filter = "pid=x" }), "a bad filter at start");
            Expect.True(start.Message.Contains("pid=x"), "start error names the term: " + start.Message);
            using (new TcpTracer(OwnCloses())) { }   // the failed start released the protocol
        }

        // tcpEvent_DequeueEx writes at most the size it is given and says how much in `size`.
        static void DequeueRawSizes()
        {
            using (var tracer = new TcpTracer(OwnCloses()))
            {
                TcpEventEx raw;
                Expect.Equal(DequeueResult.InvalidArgument, TcpNative.DequeueEx(out raw, (UIntPtr)7, 0), "size below 8");
                Expect.Equal(DequeueResult.TimedOut, tracer.DequeueRaw(out raw, TimeSpan.Zero), "nothing queued");
                Expect.Equal(0u, raw.size, "size after a timeout");

                var report = NamedThread.Run("dn-raw", () => LoopbackTcp.Run(IPAddress.Loopback));
                // Only the first 100 bytes: up to tcpi_segs_in/family/ports/task/SADDR's start.
                raw = default(TcpEventEx);
                Expect.Equal(DequeueResult.Event, TcpNative.DequeueEx(out raw, (UIntPtr)100, 5000), "a truncated dequeue");
                Expect.Equal(100u, raw.size, "size of a truncated dequeue");
                Expect.Equal((uint)ThreadIdentity.Pid, raw.pid, "pid within the first 100 bytes");
                Expect.Equal("dn-raw", raw.Task, "task within the first 100 bytes");
                Expect.Equal(0u, raw.srtt_us, "srtt_us (offset 200) untouched");
                Expect.Equal(0ul, raw.cookie, "cookie (offset 280) untouched");

                Expect.Equal(DequeueResult.Event, tracer.DequeueRaw(out raw, TimeSpan.FromSeconds(5)), "the other end, in full");
                Expect.Equal((uint)TcpEventEx.Size, raw.size, "size of a full dequeue");
                Expect.True(raw.srtt_us > 0 && raw.cookie != 0, "fields past 100 bytes are filled");
                var ports = new[] { report.ClientPort, report.ServerPort };
                Expect.True(ports.Contains(raw.SPT), "the second event is the exchange's other socket");
            }
        }

        static void StatsIdentity()
        {
            TcpTracer tracer;
            using (tracer = new TcpTracer(OwnCloses()))
            {
                var running = tracer.Stats;
                Expect.Equal(1u, running.Status, "status while running");
                Expect.True(new[] { "fentry", "kprobe", "tp_btf", "raw_tp", "tracepoint" }.Contains(running.AttachPath), "attach path: " + running.AttachPath);
                Expect.Equal("ringbuf", running.Transport, "default transport");
                string reason;
                Expect.Equal(AttachPathSupport.Supported, TcpTracer.ProbeAttachPath(running.AttachPath, out reason), "probe of the path in use");
                Expect.Equal(AttachPathSupport.CannotProbe, TcpTracer.ProbeAttachPath("bogus", out reason), "probe of an unknown path");
                Expect.True(reason.Length > 0, "the reason an unknown path cannot be probed");

                var report = NamedThread.Run("dn-stats", () => LoopbackTcp.Run(IPAddress.Loopback));
                Collect.TcpCloses(tracer, report.ClientPort, report.ServerPort);
                Expect.Equal(2L, tracer.Stats.Delivered, "delivered: the two events taken");
            }
            var final = tracer.Stats;
            Expect.Equal(0u, final.Status, "status after Dispose");
            Expect.Equal(final.KernelEmitted, final.Delivered + final.Shed + final.Queued + final.Discarded + final.Malformed,
                "kernel_emitted == delivered + shed + queued + discarded + malformed: " + final);
        }
    }
}
