using System;
using System.Collections.Generic;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>
    /// The binding's tests under Mono, with real eBPF and loopback traffic this process makes.
    ///   mono BindingTests.exe --repo REPO [TEST ...]      (bindings/dotnet/test.sh runs it)
    ///   mono BindingTests.exe --child MODE                (used by the tests themselves)
    /// Run as root, with the libraries at /opt/RealTimeKql/lib (with-libraries.sh).
    /// </summary>
    public static class Program
    {
        static int Main(string[] args)
        {
            if (args.Length == 2 && args[0] == "--child") return ChildModes.Run(args[1]);
            var only = new List<string>();
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] == "--repo" && i + 1 < args.Length) TestEnvironment.Repo = args[++i];
                else only.Add(args[i]);
            }
            if (TestEnvironment.Repo == null)
            {
                Console.Error.WriteLine("usage: mono BindingTests.exe --repo REPO [TEST ...]");
                return 2;
            }
            var runner = new TestRunner();
            LayoutTests.Register(runner, TestEnvironment.Repo);
            TcpTracerTests.Register(runner);
            UdpTracerTests.Register(runner);
            ObservableTests.Register(runner);
            LifecycleTests.Register(runner);
            ErrorTests.Register(runner);
            ExampleTests.Register(runner);
            return runner.Run("BindingTests", only);
        }
    }
}
