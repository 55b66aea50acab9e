using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>UdpTracer over a real loopback conversation made by this process: every call's event, exactly.</summary>
    public static class UdpTracerTests
    {
        public static void Register(TestRunner runner)
        {
            runner.Add("udp_ipv4_exact_values", () => ExactValues(IPAddress.Loopback, "dn-udp4"));
            runner.Add("udp_ipv6_exact_values", () => ExactValues(IPAddress.IPv6Loopback, "dn-udp6"));
            runner.Add("udp_bad_filter_argument_exception", BadFilter);
        }

        /// <summary>One expected event: kind and the socket's totals after it.</summary>
        struct Step
        {
            public UdpEventKind Kind; public long Rx, Tx, RxPackets, TxPackets;
            public Step(UdpEventKind kind, long rx, long tx, long rxPackets, long txPackets)
            { Kind = kind; Rx = rx; Tx = tx; RxPackets = rxPackets; TxPackets = txPackets; }
            public override string ToString() { return Kind + " rx_b=" + Rx + " tx_b=" + Tx + " rxPkts=" + RxPackets + " txPkts=" + TxPackets; }
        }

        static void ExactValues(IPAddress loopback, string comm)
        {
            using (var tracer = new UdpTracer(new UdpTracerOptions { Filter = "comm=" + comm }))
            {
                var report = NamedThread.Run(comm, () => LoopbackUdp.Run(loopback));
                var events = Collect.Until(tracer, seen => seen.Count(e => e.Kind == UdpEventKind.Close) == 2);
                int size = LoopbackUdp.DatagramSize, reply = LoopbackUdp.ReplySize;
                var sender = new List<Step>();
                for (int i = 1; i <= LoopbackUdp.Datagrams; i++) sender.Add(new Step(UdpEventKind.Send, 0, i * size, 0, i));
                for (int i = 1; i <= LoopbackUdp.Replies; i++) sender.Add(new Step(UdpEventKind.Receive, i * reply, 3 * size, i, 3));
                sender.Add(new Step(UdpEventKind.Close, 2 * reply, 3 * size, 2, 3));
                var receiver = new List<Step>();
                for (int i = 1; i <= LoopbackUdp.Datagrams; i++) receiver.Add(new Step(UdpEventKind.Receive, i * size, 0, i, 0));
                for (int i = 1; i <= LoopbackUdp.Replies; i++) receiver.Add(new Step(UdpEventKind.Send, 3 * size, i * reply, 3, i));
                receiver.Add(new Step(UdpEventKind.Close, 3 * size, 2 * reply, 3, 2));

                CheckSocket("sender", events, report.SenderPort, report.ReceiverPort, sender, loopback, comm);
                CheckSocket("receiver", events, report.ReceiverPort, report.SenderPort, receiver, loopback, comm);
                Expect.Equal(sender.Count + receiver.Count, events.Count, "events of the conversation, and no others");
            }
        }

        static void CheckSocket(string end, List<UdpEvent> events, int localPort, int remotePort, List<Step> expected, IPAddress loopback, string comm)
        {
            var mine = events.Where(e => e.LocalPort == localPort).ToList();
            var steps = mine.Select(e => new Step(e.Kind, e.RxBytes, e.TxBytes, e.RxPackets, e.TxPackets).ToString());
            Expect.Equal(string.Join("; ", expected), string.Join("; ", steps), end + " events in order");
            ulong cookie = mine[0].Cookie;
            foreach (var e in mine)
            {
                Expect.Equal(ThreadIdentity.Pid, e.ProcessId, end + " pid");
                Expect.Equal(ThreadIdentity.Uid, e.UserId, end + " uid");
                Expect.Equal(comm, e.Comm, end + " comm");
                Expect.Equal(loopback.AddressFamily, e.Family, end + " family");
                // The receiver is bound to the loopback address; the sender was autobound, so
                // its local address is the any-address.
                var local = end == "receiver" ? loopback
                          : loopback.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any;
                Expect.Equal(local, e.LocalAddress, end + " local address (" + e.Kind + ")");
                Expect.Equal(new IPEndPoint(loopback, remotePort), e.RemoteEndPoint, end + " peer (" + e.Kind + ")");
                Expect.Equal(cookie, e.Cookie, end + " cookie is the socket's on every event");
                Expect.Equal(ProcessFacts.NetworkNamespace, e.NetworkNamespace, end + " netns_ino");
                Expect.Equal(ProcessFacts.CgroupId, e.CgroupId, end + " cgroup_id");
                Expect.Equal(0L, e.RxDrops, end + " rx_drops");
                Expect.Equal((uint)Native.UdpEventEx.Size, e.Raw.size, end + " size written");
            }
        }

        static void BadFilter()
        {
            var e = Expect.Throws<ArgumentException>(() => new UdpTracer(new UdpTracerOptions { Filter = "family=5" }), "family=5 at start");
            Expect.True(e.Message.Contains("family=5"), "message names the term: " + e.Message);
            Expect.Equal(InterceptorErrorKind.InvalidArgument, UdpTracer.GetLastError().Kind, "udpEvent_GetLastErrorKind");
            Expect.Equal(e.Message, UdpTracer.GetLastError().Message, "the exception carries udpEvent_GetLastError's text");
        }
    }
}
