using System;
using System.Collections.Generic;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>Start failures as .NET exceptions with the library's message, and where the libraries are loaded from.</summary>
    public static class ErrorTests
    {
        public static void Register(TestRunner runner)
        {
            runner.Add("start_bad_option_argument_exception", BadOption);
            runner.Add("start_unprivileged_unauthorized_access", () => Unprivileged("start-tcp", "libtcpEvent"));
            runner.Add("start_unprivileged_unauthorized_access_udp", () => Unprivileged("start-udp", "libudpEvent"));
            runner.Add("libraries_resolved_from_opt_realtimekql_lib", Resolution);
        }

        static void BadOption()
        {
            var e = Expect.Throws<ArgumentException>(() => new TcpTracer(new TcpTracerOptions { MaxSockets = 2000000 }), "MaxSockets above the limit");
            Expect.Equal("EBPF_INTERCEPTOR_TCP_MAX_SOCKETS=\"2000000\" is not a socket count; use 1 to 1048576", e.Message, "the library's message");
            Expect.Equal(InterceptorErrorKind.InvalidArgument, (InterceptorErrorKind)e.Data["Kind"], "kind");
            var path = Expect.Throws<ArgumentException>(() => new UdpTracer(new UdpTracerOptions { AttachPath = "bogus" }), "an unknown attach path");
            Expect.True(path.Message.StartsWith("EBPF_INTERCEPTOR_UDP_ATTACH=\"bogus\" is not an attach path; use auto or one of: "), "the library's message: " + path.Message);
            using (var tracer = new TcpTracer(new TcpTracerOptions { Filter = "comm=dn-nothing" }))
                Expect.Equal(1u, tracer.Stats.Status, "a failed start leaves nothing behind");
        }

        // As nobody, without capabilities: the library's permission error, as UnauthorizedAccessException.
        static void Unprivileged(string mode, string library)
        {
            using (var child = new ChildProcess("setpriv",
                new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "mono", TestEnvironment.Self, "--child", mode },
                new Dictionary<string, string> { { "HOME", "/tmp" } }))
            {
                Expect.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(60)), "child exit code\n" + child.Transcript());
                Expect.Equal(
                    "EXCEPTION System.UnauthorizedAccessException|Permission|not permitted to load BPF programs (missing CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN): run as root, or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN",
                    string.Join("\n", child.Stdout), "what the unprivileged child got");
                Expect.Equal(library + ": not permitted to load BPF programs (missing CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN): run as root, or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN",
                    string.Join("\n", child.Stderr), "the library's one stderr line");
            }
        }

        // The binding finds the libraries through its dllmap at /opt/RealTimeKql/lib, and only
        // there: with an empty /opt (no LD_LIBRARY_PATH either) it names that path.
        static void Resolution()
        {
            using (var child = new ChildProcess(TestEnvironment.Bindings("with-libraries.sh"),
                new[] { "--none", "mono", TestEnvironment.Self, "--child", "start-tcp" }))
            {
                Expect.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(60)), "child exit code\n" + child.Transcript());
                var line = string.Join("\n", child.Stdout);
                Expect.True(line.StartsWith("EXCEPTION System.DllNotFoundException|-|/opt/RealTimeKql/lib/libtcpEvent.so"),
                    "without the libraries, the dllmap's path is named: " + line);
            }
            using (var child = new ChildProcess("mono", new[] { TestEnvironment.Self, "--child", "start-tcp" }))
            {
                Expect.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(60)), "child exit code\n" + child.Transcript());
                var line = string.Join("\n", child.Stdout);
                Expect.True(line.StartsWith("STARTED "), "with the libraries at /opt/RealTimeKql/lib: " + line);
                Expect.Equal(null, Environment.GetEnvironmentVariable("LD_LIBRARY_PATH"), "LD_LIBRARY_PATH is not set");
            }
        }
    }
}
