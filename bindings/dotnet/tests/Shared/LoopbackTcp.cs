using System;
using System.Net;
using System.Net.Sockets;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>What one loopback connection did, for exact comparison with its events.</summary>
    public sealed class TcpExchangeReport
    {
        public int ClientPort;
        public int ServerPort;
        public DateTime Before;
        public DateTime After;
    }

    /// <summary>
    /// One loopback TCP connection made by this process on the calling thread (so the events'
    /// pid and comm are this process's and this thread's): the client sends 1000 bytes, the
    /// server 2000, then an ordered graceful close: the client shuts down its sending side,
    /// the server reads that FIN and shuts down its own, the client waits for the server's
    /// FIN, and only then both close. The library then reports client rx_b=2001 tx_b=1002
    /// and server rx_b=1001 tx_b=2001 (README "Event meanings").
    /// </summary>
    public static class LoopbackTcp
    {
        public const int ClientSends = 1000;
        public const int ServerSends = 2000;

        /// <summary>A listener on <paramref name="loopback"/>, port chosen by the kernel (or given).</summary>
        public static Socket Listen(IPAddress loopback, int port)
        {
            var listener = new Socket(loopback.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(loopback, port));
            listener.Listen(1);
            return listener;
        }

        /// <summary>Runs the exchange against <paramref name="listener"/>, then closes it.</summary>
        public static TcpExchangeReport Exchange(Socket listener)
        {
            var report = new TcpExchangeReport { Before = DateTime.UtcNow };
            var serverEnd = (IPEndPoint)listener.LocalEndPoint;
            using (var client = new Socket(serverEnd.AddressFamily, SocketType.Stream, ProtocolType.Tcp))
            {
                client.Connect(serverEnd);
                using (var server = listener.Accept())
                {
                    report.ClientPort = ((IPEndPoint)client.LocalEndPoint).Port;
                    report.ServerPort = serverEnd.Port;
                    SendAll(client, ClientSends);
                    ReceiveExactly(server, ClientSends);
                    SendAll(server, ServerSends);
                    ReceiveExactly(client, ServerSends);
                    client.Shutdown(SocketShutdown.Send);
                    ExpectEndOfStream(server);
                    server.Shutdown(SocketShutdown.Send);
                    ExpectEndOfStream(client);
                    client.Close();
                    server.Close();
                }
            }
            listener.Close();
            report.After = DateTime.UtcNow;
            return report;
        }

        /// <summary>Listen and exchange on <paramref name="loopback"/>.</summary>
        public static TcpExchangeReport Run(IPAddress loopback)
        {
            return Exchange(Listen(loopback, 0));
        }

        static void SendAll(Socket socket, int count)
        {
            var data = new byte[count];
            int sent = 0;
            while (sent < count) sent += socket.Send(data, sent, count - sent, SocketFlags.None);
        }

        static void ReceiveExactly(Socket socket, int count)
        {
            var buffer = new byte[count];
            int received = 0;
            while (received < count)
            {
                int n = socket.Receive(buffer, received, count - received, SocketFlags.None);
                if (n == 0) throw new InvalidOperationException("peer closed after " + received + " of " + count + " bytes");
                received += n;
            }
        }

        static void ExpectEndOfStream(Socket socket)
        {
            var buffer = new byte[16];
            int n = socket.Receive(buffer);
            if (n != 0) throw new InvalidOperationException("expected the peer's FIN, got " + n + " more bytes");
        }
    }
}
