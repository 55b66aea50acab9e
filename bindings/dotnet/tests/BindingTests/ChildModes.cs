using System;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>
    /// What the test program does when run as a child of a test (BindingTests.exe --child
    /// MODE): start a tracer and report how that went on stdout, as one line
    /// "STARTED attach_path" or "EXCEPTION Type|Kind|Message".
    /// </summary>
    public static class ChildModes
    {
        public static int Run(string mode)
        {
            try
            {
                switch (mode)
                {
                    case "start-tcp":
                        using (var tracer = new TcpTracer()) Console.WriteLine("STARTED " + tracer.Stats.AttachPath);
                        return 0;
                    case "start-udp":
                        using (var tracer = new UdpTracer()) Console.WriteLine("STARTED " + tracer.Stats.AttachPath);
                        return 0;
                    default:
                        Console.WriteLine("unknown child mode " + mode);
                        return 2;
                }
            }
            catch (Exception e)
            {
                object kind = e.Data.Contains("Kind") ? e.Data["Kind"] : "-";
                Console.WriteLine("EXCEPTION " + e.GetType().FullName + "|" + kind + "|" + e.Message);
                return 0;
            }
        }
    }
}
