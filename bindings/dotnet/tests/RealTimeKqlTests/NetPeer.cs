using System;
using System.Collections.Generic;
using System.Linq;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>What a pair of netpeers reported about one exchange.</summary>
    public sealed class PeerReport
    {
        public int ClientPid, ServerPid, ClientPort, ServerPort;
        /// <summary>Wall clock (Unix ns) just before the first close() and just after the last.</summary>
        public ulong CloseBefore, CloseAfter;
    }

    /// <summary>
    /// The project's traffic peer (crates/testkit/src/bin/netpeer/, built by cargo into
    /// target/release): each end in its own process with its own comm, the client/sender as
    /// nobody, so pid, comm and uid differ per end and are known exactly.
    /// </summary>
    public static class NetPeer
    {
        public const uint Nobody = 65534;

        /// <summary>target/release/netpeer (--netpeer).</summary>
        public static string Path;

        static ChildProcess Spawn(bool asNobody, params string[] args)
        {
            if (!asNobody) return new ChildProcess(Path, args);
            return new ChildProcess("setpriv", new[] { "--reuid=65534", "--regid=65534", "--clear-groups", Path }.Concat(args));
        }

        static Dictionary<string, string> Expect(ChildProcess peer, string key)
        {
            string line = peer.WaitForStdout(key + " ", TimeSpan.FromSeconds(30));
            return line.Split(' ').Skip(1).Select(w => w.Split('=')).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
        }

        static void Finish(ChildProcess peer, string what)
        {
            Tests.Expect.Equal(0, peer.WaitForExit(TimeSpan.FromSeconds(30)), what + " exit code\n" + peer.Transcript());
        }

        /// <summary>
        /// One TCP connection: tcpcli (as nobody) sends 1000 bytes, tcpsrv 2000, the client
        /// shuts down its side first (close=shutdown) and the server closes after reading its FIN
        /// (close=after-fin), testkit's CloseOrder::ClientFirst: client rx_b=2001 tx_b=1002,
        /// server rx_b=1001 tx_b=2001.
        /// </summary>
        public static PeerReport Tcp()
        {
            using (var server = Spawn(false, "tcp-server", "addr=127.0.0.1", "comm=tcpsrv", "recv=1000", "send=2000", "close=after-fin"))
            {
                var listen = Expect(server, "LISTEN");
                using (var client = Spawn(true, "tcp-client", "addr=127.0.0.1", "port=" + listen["port"], "comm=tcpcli", "send=1000", "recv=2000", "close=shutdown"))
                {
                    var connected = Expect(client, "CONNECTED");
                    var clientClosed = Expect(client, "CLOSED");
                    var serverClosed = Expect(server, "CLOSED");
                    Finish(client, "tcp-client");
                    Finish(server, "tcp-server");
                    return new PeerReport
                    {
                        ClientPid = int.Parse(connected["pid"]),
                        ServerPid = int.Parse(listen["pid"]),
                        ClientPort = int.Parse(connected["local_port"]),
                        ServerPort = int.Parse(listen["port"]),
                        CloseBefore = Math.Min(ulong.Parse(clientClosed["before"]), ulong.Parse(serverClosed["before"])),
                        CloseAfter = Math.Max(ulong.Parse(clientClosed["after"]), ulong.Parse(serverClosed["after"])),
                    };
                }
            }
        }

        /// <summary>
        /// One UDP conversation: udpsnd (as nobody, autobound, sendto) sends 3 × 100 bytes to
        /// udprcv, which answers 2 × 200 bytes to their source (recvfrom both ways); both close.
        /// </summary>
        public static PeerReport Udp()
        {
            using (var receiver = Spawn(false, "udp-receiver", "addr=127.0.0.1", "comm=udprcv", "count=3", "recv=recvfrom", "reply=2", "size=200"))
            {
                var bound = Expect(receiver, "BOUND");
                using (var sender = Spawn(true, "udp-sender", "addr=127.0.0.1", "port=" + bound["port"], "comm=udpsnd", "count=3", "size=100",
                    "connect=0", "recv=2", "recvmode=recvfrom"))
                {
                    var sent = Expect(sender, "SENT");
                    var senderClosed = Expect(sender, "CLOSED");
                    var receiverClosed = Expect(receiver, "CLOSED");
                    Finish(sender, "udp-sender");
                    Finish(receiver, "udp-receiver");
                    return new PeerReport
                    {
                        ClientPid = int.Parse(sent["pid"]),
                        ServerPid = int.Parse(bound["pid"]),
                        ClientPort = int.Parse(sent["local_port"]),
                        ServerPort = int.Parse(bound["port"]),
                        CloseBefore = Math.Min(ulong.Parse(senderClosed["before"]), ulong.Parse(receiverClosed["before"])),
                        CloseAfter = Math.Max(ulong.Parse(senderClosed["after"]), ulong.Parse(receiverClosed["after"])),
                    };
                }
            }
        }
    }
}
