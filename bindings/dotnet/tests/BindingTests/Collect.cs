using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>Taking events from a tracer until the expected ones came, with a deadline.</summary>
    public static class Collect
    {
        /// <summary>Every event of <paramref name="tracer"/> until <paramref name="done"/> holds for what came; fails after 15 s with what did.</summary>
        public static List<T> Until<T>(EventTracer<T> tracer, Func<List<T>, bool> done) where T : class
        {
            var seen = new List<T>();
            using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
            {
                try
                {
                    foreach (T e in tracer.Events(deadline.Token))
                    {
                        seen.Add(e);
                        if (done(seen)) return seen;
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }
            throw new ExpectationFailed("the expected events did not come within 15 s; came:\n  " + string.Join("\n  ", seen.Select(e => e.ToString())));
        }

        /// <summary>Until a close event of each of these local ports came.</summary>
        public static List<TcpEvent> TcpCloses(TcpTracer tracer, params int[] localPorts)
        {
            return Until(tracer, seen => localPorts.All(port => seen.Any(e => e.Kind == TcpEventKind.Close && e.LocalPort == port)));
        }

        /// <summary>The one close event of a local port in <paramref name="events"/>.</summary>
        public static TcpEvent CloseOf(List<TcpEvent> events, int localPort)
        {
            var matches = events.Where(e => e.Kind == TcpEventKind.Close && e.LocalPort == localPort).ToList();
            Expect.Equal(1, matches.Count, "close events of local port " + localPort);
            return matches[0];
        }
    }
}
