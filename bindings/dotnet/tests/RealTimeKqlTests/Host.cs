using System;
using System.Collections.Generic;
using System.Linq;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>realtimekql-ebpf (or another built program) run as a child, started and ready.</summary>
    public static class Host
    {
        /// <summary>
        /// Live snapshots off: every test here counts the events its peers caused ("after 8
        /// events", --max-events), and a snapshot pass (every 6 s by default) that found a
        /// peer's connection still open would add one, by timing (seen under load: "after 9
        /// events"). The snapshots have their own tests (crates/testkit/tests/tcp_snapshots.rs).
        /// </summary>
        static readonly Dictionary<string, string> Environment = new Dictionary<string, string>
        {
            { "EBPF_INTERCEPTOR_TCP_SNAPSHOT_SECS", "0" },
        };

        /// <summary>Starts the program and waits for its "tracing" line on stderr.</summary>
        public static ChildProcess Start(string program, params string[] args)
        {
            var child = Launch(program, args);
            child.WaitForStderr("tracing", TimeSpan.FromSeconds(30));
            return child;
        }

        /// <summary>
        /// Starts target/dotnet/realtimekql-ebpf, the shell launcher the README runs (it
        /// execs mono, so signals reach the program itself), and waits for its "tracing" line.
        /// </summary>
        public static ChildProcess StartLauncher(params string[] args)
        {
            var child = new ChildProcess(TestEnvironment.Built("realtimekql-ebpf"), args, Environment);
            child.WaitForStderr("tracing", TimeSpan.FromSeconds(30));
            return child;
        }

        /// <summary>Starts the program through mono, as its launcher does.</summary>
        public static ChildProcess Launch(string program, params string[] args)
        {
            return new ChildProcess("mono", new[] { TestEnvironment.Built(program) }.Concat(args), Environment);
        }

        /// <summary>The rows printed so far, waiting until <paramref name="done"/> holds (15 s at most).</summary>
        public static JsonRows WaitForRows(ChildProcess host, Func<JsonRows, bool> done, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (true)
            {
                var rows = JsonRows.Parse(host.Stdout);
                if (done(rows)) return rows;
                if (DateTime.UtcNow > deadline)
                    throw new ExpectationFailed(what + ": not within 15 s\n" + host.Transcript());
                System.Threading.Thread.Sleep(50);
            }
        }

        /// <summary>RealTimeKql's own lines around the rows (its logger): no errors, and the end banner.</summary>
        public static void ExpectCleanEnd(JsonRows rows, ChildProcess host)
        {
            Expect.True(rows.OtherLines.All(l => !l.Contains("ERROR") && !l.Contains("Exception")), "no errors on stdout\n" + host.Transcript());
            Expect.Equal("Stopping RealTimeKql...|Completed!|Thank you for using RealTimeKql!",
                string.Join("|", rows.OtherLines.Where(l => l.Length > 0)), "RealTimeKql's lines besides the rows");
        }
    }
}
