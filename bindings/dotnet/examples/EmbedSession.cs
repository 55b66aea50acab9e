// RealTimeKql's pipeline over TCP events inside your own program: the query file's results
// go to RealTimeKql's console JSON output.
//   mono target/dotnet/EmbedSession.exe QUERY.kql FILTER COUNT
using System;
using EbpfEventInterceptor;
using EbpfEventInterceptor.RealTimeKql;
using RealTimeKqlLibrary;

static class EmbedSession
{
    static int Main(string[] args)
    {
        var output = new ConsoleJsonOutput(new ConsoleLogger());
        var options = new TcpTracerOptions { Filter = args[1] };
        using (var session = new EbpfTcpSession(output, options, args[0]))
        {
            session.MaxEvents = long.Parse(args[2]);
            if (!session.Start()) return 1;
            Console.Error.WriteLine("tracing TCP through " + args[0]);
            session.ReaderDone.WaitOne();
        }   // Dispose: stops the tracer, completes the stream, then RealTimeKql's output
        return 0;
    }
}
