using System;
using System.Threading;
using EbpfEventInterceptor;
using EbpfEventInterceptor.RealTimeKql;
using RealTimeKqlLibrary;

namespace RealTimeKqlEbpf
{
    /// <summary>
    /// realtimekql-ebpf: RealTimeKql's command-line experience over live eBPF events. The
    /// input is EbpfTcpSession or EbpfUdpSession, the output RealTimeKql's own console output
    /// (ConsoleJsonOutput or ConsoleTableOutput, with its ConsoleLogger, as RealTimeKql's CLI
    /// wires them). Results go to stdout as RealTimeKql prints them; this program's own lines
    /// go to stderr.
    /// </summary>
    internal static class Program
    {
        static int Main(string[] args)
        {
            CommandLine line;
            try
            {
                line = CommandLine.Parse(args);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("realtimekql-ebpf: " + e.Message);
                Console.Error.WriteLine(CommandLine.Usage);
                return 2;
            }

            var logger = new ConsoleLogger();
            IOutput output = line.Output == "table" ? (IOutput)new ConsoleTableOutput(logger) : new ConsoleJsonOutput(logger);
            // Caught from here on, so a signal during start-up still stops cleanly.
            using (var signals = new StopSignals())
            {
                string[] queries = line.Queries.ToArray();
                if (line.Protocol == "tcp")
                    return Run(new EbpfTcpSession(output, new TcpTracerOptions { Filter = line.Filter }, queries), line, signals);
                return Run(new EbpfUdpSession(output, new UdpTracerOptions { Filter = line.Filter }, queries), line, signals);
            }
        }

        static int Run<TEvent>(EbpfSession<TEvent> session, CommandLine line, StopSignals signals) where TEvent : class
        {
            session.MaxEvents = line.MaxEvents;
            if (!session.Start())
            {
                Console.Error.WriteLine("realtimekql-ebpf: cannot start: " + (session.Error != null ? session.Error.Message : "unknown error"));
                session.Shutdown();
                return 1;
            }
            var stats = session.Tracer.Stats;
            Console.Error.WriteLine("realtimekql-ebpf: tracing {0} (attach path {1}, transport {2}); SIGINT or SIGTERM stops",
                line.Protocol, stats.AttachPath, stats.Transport);

            // UnixSignal is not an OS wait handle: WaitHandle.WaitAny over it and the reader's
            // event aborts Mono 6.8 (w32handle.c "handle_ops [type]"). So wait on the signals
            // with UnixSignal.WaitAny in short slices, checking the reader and the duration
            // between them (a signal still ends the wait at once).
            var clock = System.Diagnostics.Stopwatch.StartNew();
            string reason = null;
            while (reason == null)
            {
                int which = signals.WaitAny(100);
                if (which >= 0) reason = signals.NameOf(which);
                else if (session.ReaderDone.WaitOne(0)) reason = session.Error != null ? "reader failed" : "--max-events reached";
                else if (line.Duration.HasValue && clock.Elapsed >= line.Duration.Value) reason = "--duration reached";
            }

            session.Shutdown();
            Console.Error.WriteLine("realtimekql-ebpf: stopped ({0}) after {1} events; {2}", reason, session.EventsPushed, session.Tracer.Stats);
            return session.Error != null ? 1 : 0;
        }
    }
}
