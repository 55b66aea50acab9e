using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Mono.Unix.Native;
using Newtonsoft.Json.Linq;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>
    /// realtimekql-ebpf end to end: the README's query files over live loopback traffic from
    /// netpeer processes, checked row by row against what the peers did.
    /// </summary>
    public static class HostTests
    {
        const string TcpPeers = "comm=tcpcli,comm=tcpsrv";
        const string UdpPeers = "comm=udpsnd,comm=udprcv";
        const int WindowSeconds = 5;   // bin(EventTime, 5s) in connections.kql

        static string ConnectionsKql { get { return TestEnvironment.Bindings("examples/connections.kql"); } }
        static string UdpKql { get { return TestEnvironment.Bindings("examples/udp.kql"); } }

        public static void Register(TestRunner runner)
        {
            runner.Add("host_tcp_json_rows_and_window_exact", TcpJson);
            runner.Add("host_tcp_table_output_sigterm", TcpTable);
            runner.Add("host_udp_json_rows_exact_max_events", UdpJson);
            runner.Add("host_duration_stops_by_itself", Duration);
            runner.Add("host_missing_query_file_exit_1", MissingQuery);
            runner.Add("host_unprivileged_exit_1_with_library_message", Unprivileged);
            runner.Add("host_usage_errors_exit_2", Usage);
            runner.Add("example_embed_session", EmbedSession);
        }

        static DateTime FromUnixNs(ulong ns)
        {
            return new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks((long)(ns / 100));
        }

        static DateTime Time(JObject row)
        {
            return DateTime.Parse((string)row["EventTime"], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        }

        static JObject Without(JObject row, string column)
        {
            var copy = (JObject)row.DeepClone();
            copy.Remove(column);
            return copy;
        }

        /// <summary>The two rows connections.kql's first query prints for one netpeer exchange.</summary>
        static List<string> ConnectionRows(PeerReport p)
        {
            return new List<string>
            {
                string.Format("pid={0}, task=tcpcli, UserId=65534, SADDR=127.0.0.1, SPT={1}, DADDR=127.0.0.1, DPT={2}, rx_b=2001, tx_b=1002, total_b=3003", p.ClientPid, p.ClientPort, p.ServerPort),
                string.Format("pid={0}, task=tcpsrv, UserId=0, SADDR=127.0.0.1, SPT={1}, DADDR=127.0.0.1, DPT={2}, rx_b=1001, tx_b=2001, total_b=3002", p.ServerPid, p.ServerPort, p.ClientPort),
            };
        }

        /// <summary>Each exchange's rows, exactly, with the close time within the peers' close window (1 ms slack).</summary>
        static void CheckConnectionRows(List<JObject> rows, List<PeerReport> exchanges)
        {
            var expected = exchanges.SelectMany(ConnectionRows).OrderBy(t => t).ToList();
            var actual = rows.Select(r => JsonRows.Text(Without(r, "EventTime"))).OrderBy(t => t).ToList();
            Expect.Equal(string.Join("\n", expected), string.Join("\n", actual), "connection rows (all columns but EventTime, in project order)");
            foreach (var row in rows)
            {
                Expect.Equal("EventTime", row.Properties().First().Name, "EventTime is the first column");
                var exchange = exchanges.Single(p => (long)row["SPT"] == p.ClientPort || (long)row["SPT"] == p.ServerPort);
                var time = Time(row);
                Expect.Equal(DateTimeKind.Utc, time.Kind, "EventTime printed as UTC");
                Expect.True(time >= FromUnixNs(exchange.CloseBefore).AddMilliseconds(-1) && time <= FromUnixNs(exchange.CloseAfter).AddMilliseconds(1),
                    "EventTime " + row["EventTime"] + " within the close window of its exchange");
            }
        }

        // Three connections in one 5-second window, then a fourth after it ends: RealTimeKql's
        // summarize emits a window when the first event past its end arrives.
        static void TcpJson()
        {
            using (var host = Host.Start("realtimekql-ebpf.exe", "tcp", "--query", ConnectionsKql, "--output", "json", "--filter", TcpPeers))
            {
                // Start just after a whole second: the window is [that second, +5 s).
                while (DateTime.UtcNow.Millisecond > 200) Thread.Sleep(10);
                var batch = new List<PeerReport> { NetPeer.Tcp(), NetPeer.Tcp(), NetPeer.Tcp() };
                var rows = Host.WaitForRows(host, r => r.With("total_b").Count == 6, "the batch's 6 connection rows");
                DateTime first = rows.With("total_b").Select(Time).Min();
                var windowEnd = new DateTime(first.Ticks - first.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc).AddSeconds(WindowSeconds);
                Expect.True(rows.With("total_b").All(r => Time(r) < windowEnd), "the batch fits in one window (ends " + windowEnd.ToString("o") + ")");
                while (DateTime.UtcNow <= windowEnd.AddMilliseconds(100)) Thread.Sleep(20);
                var trigger = NetPeer.Tcp();
                rows = Host.WaitForRows(host, r => r.With("connections").Count >= 2 && r.With("total_b").Count == 8, "the window's 2 rows and 8 connection rows");

                host.Signal(Signum.SIGINT);
                Expect.Equal(0, host.WaitForExit(TimeSpan.FromSeconds(30)), "exit code after SIGINT\n" + host.Transcript());
                rows = JsonRows.Parse(host.Stdout);
                // With SHOW_OUTPUT=1, what RealTimeKql printed, on stderr (for the README's sample).
                if (Environment.GetEnvironmentVariable("SHOW_OUTPUT") == "1")
                    foreach (string line in host.Stdout) Console.Error.WriteLine("realtimekql-ebpf| " + line);
                CheckConnectionRows(rows.With("total_b"), batch.Concat(new[] { trigger }).ToList());

                string end = windowEnd.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                var window = rows.With("connections").Where(r => (string)r["EventTime"] == end).Select(JsonRows.Text).OrderBy(t => t);
                Expect.Equal(string.Join("\n", new[]
                {
                    "EventTime=" + end + ", task=tcpcli, UserId=65534, connections=3, rx=6003, tx=3006, total=9009",
                    "EventTime=" + end + ", task=tcpsrv, UserId=0, connections=3, rx=3003, tx=6003, total=9006",
                }), string.Join("\n", window), "the summarize rows of the batch's window (labelled with its end)");
                // RealTimeKql 2.2.4 flushes a window only when a later event arrives; the
                // trigger's own window may only ever show the trigger.
                foreach (var later in rows.With("connections").Where(r => (string)r["EventTime"] != end))
                    Expect.Equal(1L, (long)later["connections"], "a later window holds only the trigger: " + JsonRows.Text(later));
                Expect.Equal(8 + rows.With("connections").Count, rows.Rows.Count, "every row is a connection row or a window row");
                Host.ExpectCleanEnd(rows, host);
                host.WaitForStderr("stopped (SIGINT) after 8 events", TimeSpan.Zero);
            }
        }

        // RealTimeKql's table output (column widths from the first row, a header every 10
        // rows); values are checked as the words of each row after the date.
        static void TcpTable()
        {
            // Through the launcher, as the README runs it.
            using (var host = Host.StartLauncher("tcp", "--query", ConnectionsKql, "--output", "table", "--filter", TcpPeers))
            {
                var p = NetPeer.Tcp();
                host.WaitForStdout(" tcpsrv ", TimeSpan.FromSeconds(15));
                host.WaitForStdout(" tcpcli ", TimeSpan.FromSeconds(15));
                host.Signal(Signum.SIGTERM);
                Expect.Equal(0, host.WaitForExit(TimeSpan.FromSeconds(30)), "exit code after SIGTERM\n" + host.Transcript());
                var lines = host.Stdout;
                Expect.True(lines.Any(l => l.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries).SequenceEqual(
                    new[] { "EventTime", "pid", "task", "UserId", "SADDR", "SPT", "DADDR", "DPT", "rx_b", "tx_b", "total_b" })), "the header row\n" + host.Transcript());
                // The date takes two or three words depending on the culture; the ten other
                // columns are one word each.
                var rows = lines.Where(l => l.Contains(" tcpcli ") || l.Contains(" tcpsrv "))
                    .Select(l => l.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries))
                    .Select(words => string.Join(" ", words.Skip(words.Length - 10))).OrderBy(t => t);
                var expected = ConnectionRows(p).Select(t => string.Join(" ", t.Split(new[] { ", " }, StringSplitOptions.None).Select(kv => kv.Substring(kv.IndexOf('=') + 1)))).OrderBy(t => t);
                Expect.Equal(string.Join("\n", expected), string.Join("\n", rows), "the table's rows after date and time");
                Expect.True(lines.Contains("Completed!"), "RealTimeKql's end banner");
                host.WaitForStderr("stopped (SIGTERM) after 2 events", TimeSpan.Zero);
            }
        }

        static void UdpJson()
        {
            // 3 sends + 2 receives + close per socket.
            using (var host = Host.Start("realtimekql-ebpf.exe", "udp", "--query", UdpKql, "--filter", UdpPeers, "--max-events", "12"))
            {
                var p = NetPeer.Udp();
                Expect.Equal(0, host.WaitForExit(TimeSpan.FromSeconds(30)), "exits by itself after 12 events\n" + host.Transcript());
                var rows = JsonRows.Parse(host.Stdout);
                var expected = new[]
                {
                    string.Format("pid={0}, task=udpsnd, UserId=65534, SADDR=0.0.0.0, SPT={1}, DADDR=127.0.0.1, DPT={2}, rx_b=400, tx_b=300, rxPkts=2, txPkts=3, packets=5", p.ClientPid, p.ClientPort, p.ServerPort),
                    string.Format("pid={0}, task=udprcv, UserId=0, SADDR=127.0.0.1, SPT={1}, DADDR=127.0.0.1, DPT={2}, rx_b=300, tx_b=400, rxPkts=3, txPkts=2, packets=5", p.ServerPid, p.ServerPort, p.ClientPort),
                }.OrderBy(t => t);
                var actual = rows.Rows.Select(r => JsonRows.Text(Without(r, "EventTime"))).OrderBy(t => t);
                Expect.Equal(string.Join("\n", expected), string.Join("\n", actual), "udp.kql's rows");
                foreach (var row in rows.Rows)
                    Expect.True(Time(row) >= FromUnixNs(p.CloseBefore).AddMilliseconds(-1) && Time(row) <= FromUnixNs(p.CloseAfter).AddMilliseconds(1),
                        "close time " + row["EventTime"] + " within the peers' close window");
                Host.ExpectCleanEnd(rows, host);
                host.WaitForStderr("stopped (--max-events reached) after 12 events", TimeSpan.Zero);
            }
        }

        static void Duration()
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using (var host = Host.Start("realtimekql-ebpf.exe", "tcp", "--query", ConnectionsKql, "--filter", "comm=dn-nothing", "--duration", "1"))
            {
                Expect.Equal(0, host.WaitForExit(TimeSpan.FromSeconds(30)), "exit code\n" + host.Transcript());
                Expect.True(clock.Elapsed < TimeSpan.FromSeconds(20), "stopped by itself: " + clock.Elapsed);
                host.WaitForStderr("stopped (--duration reached) after 0 events", TimeSpan.Zero);
                Host.ExpectCleanEnd(JsonRows.Parse(host.Stdout), host);
            }
        }

        static void MissingQuery()
        {
            using (var host = Host.Launch("realtimekql-ebpf.exe", "tcp", "--query", "/nonexistent/missing.kql"))
            {
                Expect.Equal(1, host.WaitForExit(TimeSpan.FromSeconds(30)), "exit code\n" + host.Transcript());
                Expect.True(host.Stdout.Any(l => l.Contains("missing.kql") && l.Contains("does not seem to exist")), "RealTimeKql's own error\n" + host.Transcript());
                host.WaitForStderr("realtimekql-ebpf: cannot start: RealTimeKql could not load the queries", TimeSpan.Zero);
            }
        }

        static void Unprivileged()
        {
            using (var host = new ChildProcess("setpriv", new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "mono",
                TestEnvironment.Built("realtimekql-ebpf.exe"), "udp", "--query", UdpKql }, new Dictionary<string, string> { { "HOME", "/tmp" } }))
            {
                Expect.Equal(1, host.WaitForExit(TimeSpan.FromSeconds(30)), "exit code\n" + host.Transcript());
                host.WaitForStderr("realtimekql-ebpf: cannot start: not permitted to load BPF programs (missing CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN): run as root, or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN", TimeSpan.Zero);
            }
        }

        static void Usage()
        {
            var cases = new Dictionary<string[], string>
            {
                { new string[0], "tcp or udp is required" },
                { new[] { "icmp", "--query", "x.kql" }, "the first argument must be tcp or udp, not \"icmp\"" },
                { new[] { "tcp" }, "--query FILE.kql is required" },
                { new[] { "tcp", "--query", "x.kql", "--output", "xml" }, "--output must be json or table, not \"xml\"" },
                { new[] { "tcp", "--query=x.kql", "--max-events", "0" }, "--max-events takes a whole number above 0, not \"0\"" },
            };
            foreach (var c in cases)
                using (var host = Host.Launch("realtimekql-ebpf.exe", c.Key))
                {
                    Expect.Equal(2, host.WaitForExit(TimeSpan.FromSeconds(30)), "exit code for " + string.Join(" ", c.Key));
                    Expect.Equal("realtimekql-ebpf: " + c.Value, host.Stderr.First(), "first stderr line for " + string.Join(" ", c.Key));
                    Expect.True(host.Stderr.Any(l => l.StartsWith("usage: realtimekql-ebpf tcp|udp")), "usage shown");
                }
        }

        // The README's EmbedSession.cs: an EbpfTcpSession in a program of one's own.
        static void EmbedSession()
        {
            using (var program = Host.Start("EmbedSession.exe", ConnectionsKql, TcpPeers, "2"))
            {
                var p = NetPeer.Tcp();
                Expect.Equal(0, program.WaitForExit(TimeSpan.FromSeconds(30)), "exits after 2 events\n" + program.Transcript());
                var rows = JsonRows.Parse(program.Stdout);
                CheckConnectionRows(rows.Rows, new List<PeerReport> { p });
                Host.ExpectCleanEnd(rows, program);
            }
        }
    }
}
