// TCP connections as they close: program, pid, user, both ends, bytes each way.
//   mono target/dotnet/TcpConnections.exe [PORT [COUNT]]
using System;
using System.Linq;
using System.Threading;
using EbpfEventInterceptor;

static class TcpConnections
{
    static void Main(string[] args)
    {
        var options = new TcpTracerOptions { Filter = args.Length > 0 ? "port=" + args[0] : null };
        int count = args.Length > 1 ? int.Parse(args[1]) : int.MaxValue;
        using (var stop = new CancellationTokenSource())
        using (var tracer = new TcpTracer(options))
        {
            Console.CancelKeyPress += (sender, e) => { e.Cancel = true; stop.Cancel(); };
            Console.Error.WriteLine("tracing TCP with " + tracer.Stats.AttachPath);
            try
            {
                var closes = tracer.Events(stop.Token).Where(e => e.Kind == TcpEventKind.Close);
                foreach (TcpEvent e in closes.Take(count))
                    Console.WriteLine("{0} pid={1} uid={2} {3} -> {4} rx_b={5} tx_b={6}",
                        e.Comm, e.ProcessId, e.UserId, e.LocalEndPoint, e.RemoteEndPoint, e.RxBytes, e.TxBytes);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C
            }
        }
    }
}
