using System;
using System.Net;
using System.Net.Sockets;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>What one UDP conversation did.</summary>
    public sealed class UdpExchangeReport
    {
        public int SenderPort;
        public int ReceiverPort;
    }

    /// <summary>
    /// One loopback UDP conversation on the calling thread: an unbound sender (the kernel
    /// autobinds it) sends 3 datagrams of 100 bytes with sendto; the receiver takes them
    /// with recvfrom and answers 2 datagrams of 50 bytes to their source; the sender takes
    /// those with recvfrom; then both close. One event per call that moved data, plus one
    /// close per socket, each with the socket's totals so far.
    /// </summary>
    public static class LoopbackUdp
    {
        public const int Datagrams = 3;
        public const int DatagramSize = 100;
        public const int Replies = 2;
        public const int ReplySize = 50;

        /// <summary>The receiver's socket, bound to <paramref name="loopback"/> (port chosen by the kernel).</summary>
        public static Socket Bind(IPAddress loopback)
        {
            var receiver = new Socket(loopback.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            receiver.Bind(new IPEndPoint(loopback, 0));
            return receiver;
        }

        /// <summary>Binds a receiver and runs the conversation.</summary>
        public static UdpExchangeReport Run(IPAddress loopback)
        {
            return Exchange(Bind(loopback));
        }

        /// <summary>Runs the conversation with <paramref name="receiver"/>, then closes it.</summary>
        public static UdpExchangeReport Exchange(Socket receiver)
        {
            var report = new UdpExchangeReport();
            var receiverEnd = (IPEndPoint)receiver.LocalEndPoint;
            var loopback = receiverEnd.Address;
            using (receiver)
            using (var sender = new Socket(loopback.AddressFamily, SocketType.Dgram, ProtocolType.Udp))
            {
                report.ReceiverPort = receiverEnd.Port;
                for (int i = 0; i < Datagrams; i++)
                    Expect.Equal(DatagramSize, sender.SendTo(new byte[DatagramSize], receiverEnd), "sendto");
                report.SenderPort = ((IPEndPoint)sender.LocalEndPoint).Port;
                EndPoint source = new IPEndPoint(loopback, 0);
                var buffer = new byte[1500];
                for (int i = 0; i < Datagrams; i++)
                    Expect.Equal(DatagramSize, receiver.ReceiveFrom(buffer, ref source), "receiver recvfrom");
                for (int i = 0; i < Replies; i++)
                    Expect.Equal(ReplySize, receiver.SendTo(new byte[ReplySize], source), "reply sendto");
                for (int i = 0; i < Replies; i++)
                    Expect.Equal(ReplySize, sender.ReceiveFrom(buffer, ref source), "sender recvfrom");
                sender.Close();
                receiver.Close();
            }
            return report;
        }
    }
}
