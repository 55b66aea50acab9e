using System;
using System.Collections.Generic;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>
    /// realtimekql-ebpf and the RealTimeKql input under Mono, over live eBPF events.
    ///   mono RealTimeKqlTests.exe --repo REPO --netpeer target/release/netpeer [TEST ...]
    /// Run as root, with the libraries at /opt/RealTimeKql/lib (with-libraries.sh).
    /// </summary>
    public static class Program
    {
        static int Main(string[] args)
        {
            var only = new List<string>();
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] == "--repo" && i + 1 < args.Length) TestEnvironment.Repo = args[++i];
                else if (args[i] == "--netpeer" && i + 1 < args.Length) NetPeer.Path = args[++i];
                else only.Add(args[i]);
            }
            if (TestEnvironment.Repo == null || NetPeer.Path == null)
            {
                Console.Error.WriteLine("usage: mono RealTimeKqlTests.exe --repo REPO --netpeer NETPEER [TEST ...]");
                return 2;
            }
            var runner = new TestRunner();
            HostTests.Register(runner);
            return runner.Run("RealTimeKqlTests", only);
        }
    }
}
