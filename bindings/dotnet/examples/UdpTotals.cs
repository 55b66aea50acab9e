// Each UDP socket's totals when it closes, through IObservable and System.Reactive.
//   mono target/dotnet/UdpTotals.exe PORT COUNT
using System;
using System.Reactive.Linq;
using System.Threading;
using EbpfEventInterceptor;

static class UdpTotals
{
    static void Main(string[] args)
    {
        var options = new UdpTracerOptions { Filter = "port=" + args[0] };
        int count = int.Parse(args[1]);
        using (var tracer = new UdpTracer(options))
        using (var done = new ManualResetEventSlim())
        {
            Console.Error.WriteLine("tracing UDP with " + tracer.Stats.AttachPath);
            var closes = tracer.Where(e => e.Kind == UdpEventKind.Close).Take(count);
            using (closes.Subscribe(
                e => Console.WriteLine("{0} pid={1} {2} -> {3} rx_b={4} tx_b={5} rxPkts={6} txPkts={7}",
                    e.Comm, e.ProcessId, e.LocalEndPoint, e.RemoteEndPoint, e.RxBytes, e.TxBytes, e.RxPackets, e.TxPackets),
                done.Set))
            {
                done.Wait();
            }
        }
    }
}
