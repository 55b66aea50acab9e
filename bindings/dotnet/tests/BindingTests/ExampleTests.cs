using System;
using System.IO;
using System.Linq;
using System.Net;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>
    /// The README's C# snippets are the files in bindings/dotnet/examples: each must appear in
    /// the README verbatim, and each built program runs here against traffic this test makes.
    /// </summary>
    public static class ExampleTests
    {
        public static void Register(TestRunner runner)
        {
            runner.Add("readme_shows_the_examples_verbatim", ReadmeVerbatim);
            runner.Add("example_tcp_connections", TcpConnections);
            runner.Add("example_udp_totals", UdpTotals);
        }

        static void ReadmeVerbatim()
        {
            string readme = File.ReadAllText(Path.Combine(TestEnvironment.Repo, "README.md"));
            var files = Directory.GetFiles(TestEnvironment.Bindings("examples")).OrderBy(f => f).ToList();
            Expect.Equal(5, files.Count, "example files (3 programs, 2 query files): " + string.Join(", ", files.Select(Path.GetFileName)));
            foreach (string file in files)
                Expect.True(readme.Contains(File.ReadAllText(file).TrimEnd('\n')), "README.md shows " + Path.GetFileName(file) + " verbatim");
        }

        /// <summary>With SHOW_OUTPUT=1, the example's stdout on stderr (for the README's sample).</summary>
        static void Show(string example, ChildProcess child)
        {
            if (Environment.GetEnvironmentVariable("SHOW_OUTPUT") != "1") return;
            foreach (string line in child.Stdout) Console.Error.WriteLine(example + "| " + line);
        }

        static ChildProcess Start(string example, params string[] args)
        {
            var child = new ChildProcess("mono", new[] { Path.Combine(TestEnvironment.BuildDirectory, example + ".exe") }.Concat(args));
            child.WaitForStderr("tracing", TimeSpan.FromSeconds(30));
            return child;
        }

        static void TcpConnections()
        {
            var listener = LoopbackTcp.Listen(IPAddress.Loopback, 0);
            int port = ((IPEndPoint)listener.LocalEndPoint).Port;
            using (var child = Start("TcpConnections", port.ToString(), "2"))
            {
                var report = NamedThread.Run("dn-example", () => LoopbackTcp.Exchange(listener));
                Expect.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(30)), "exit code\n" + child.Transcript());
                int pid = ThreadIdentity.Pid;
                uint uid = ThreadIdentity.Uid;
                var expected = new[]
                {
                    string.Format("dn-example pid={0} uid={1} 127.0.0.1:{2} -> 127.0.0.1:{3} rx_b=2001 tx_b=1002", pid, uid, report.ClientPort, report.ServerPort),
                    string.Format("dn-example pid={0} uid={1} 127.0.0.1:{2} -> 127.0.0.1:{3} rx_b=1001 tx_b=2001", pid, uid, report.ServerPort, report.ClientPort),
                };
                Show("TcpConnections", child);
                Expect.Equal(string.Join("\n", expected.OrderBy(l => l)), string.Join("\n", child.Stdout.OrderBy(l => l)), "what TcpConnections printed");
            }
        }

        static void UdpTotals()
        {
            var receiver = LoopbackUdp.Bind(IPAddress.Loopback);
            int port = ((IPEndPoint)receiver.LocalEndPoint).Port;
            using (var child = Start("UdpTotals", port.ToString(), "2"))
            {
                var report = NamedThread.Run("dn-example", () => LoopbackUdp.Exchange(receiver));
                Expect.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(30)), "exit code\n" + child.Transcript());
                int pid = ThreadIdentity.Pid;
                var expected = new[]
                {
                    string.Format("dn-example pid={0} 0.0.0.0:{1} -> 127.0.0.1:{2} rx_b=100 tx_b=300 rxPkts=2 txPkts=3", pid, report.SenderPort, report.ReceiverPort),
                    string.Format("dn-example pid={0} 127.0.0.1:{1} -> 127.0.0.1:{2} rx_b=300 tx_b=100 rxPkts=3 txPkts=2", pid, report.ReceiverPort, report.SenderPort),
                };
                Show("UdpTotals", child);
                Expect.Equal(string.Join("\n", expected.OrderBy(l => l)), string.Join("\n", child.Stdout.OrderBy(l => l)), "what UdpTotals printed");
            }
        }
    }
}
