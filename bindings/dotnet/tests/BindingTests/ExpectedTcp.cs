using System;
using System.Net;
using System.Net.Sockets;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>The exact close events of a <see cref="LoopbackTcp"/> exchange made by this process.</summary>
    public static class ExpectedTcp
    {
        /// <summary>Checks the client's and the server's close events field by field.</summary>
        public static void Check(TcpEvent client, TcpEvent server, TcpExchangeReport report, IPAddress loopback, string comm)
        {
            CheckEnd("client", client, report, loopback, comm, report.ClientPort, report.ServerPort,
                LoopbackTcp.ServerSends + 1, LoopbackTcp.ClientSends + 2, TcpRole.Active);
            CheckEnd("server", server, report, loopback, comm, report.ServerPort, report.ClientPort,
                LoopbackTcp.ClientSends + 1, LoopbackTcp.ServerSends + 1, TcpRole.Passive);
            // Every data segment one end sent arrived at the other on loopback.
            Expect.True(client.DataSegmentsOut > 0 && server.DataSegmentsOut > 0, "data segments sent: " + client + " / " + server);
            Expect.Equal(client.DataSegmentsOut, server.DataSegmentsIn, "client data segments out = server's in");
            Expect.Equal(server.DataSegmentsOut, client.DataSegmentsIn, "server data segments out = client's in");
            Expect.Equal(client.Cookie != server.Cookie, true, "the two sockets' cookies differ");
        }

        static void CheckEnd(string end, TcpEvent e, TcpExchangeReport report, IPAddress loopback, string comm,
            int localPort, int remotePort, long rx, long tx, TcpRole role)
        {
            Expect.Equal(TcpEventKind.Close, e.Kind, end + " kind");
            Expect.Equal(ThreadIdentity.Pid, e.ProcessId, end + " pid");
            Expect.Equal(ThreadIdentity.Uid, e.UserId, end + " uid");
            Expect.Equal(comm, e.Comm, end + " comm");
            Expect.Equal(loopback.AddressFamily, e.Family, end + " family");
            Expect.Equal(loopback, e.LocalAddress, end + " local address");
            Expect.Equal(loopback, e.RemoteAddress, end + " remote address");
            Expect.Equal(loopback.ToString(), e.Raw.SourceAddressText, end + " SADDR text");
            Expect.Equal(localPort, e.LocalPort, end + " local port");
            Expect.Equal(remotePort, e.RemotePort, end + " remote port");
            Expect.Equal(rx, e.RxBytes, end + " rx_b");
            Expect.Equal(tx, e.TxBytes, end + " tx_b");
            Expect.Equal(role, e.Role, end + " role");
            Expect.Equal(0, e.Error, end + " error");
            Expect.Equal(ProcessFacts.NetworkNamespace, e.NetworkNamespace, end + " netns_ino");
            Expect.Equal(ProcessFacts.CgroupId, e.CgroupId, end + " cgroup_id");
            Expect.Equal((uint)Native.TcpEventEx.Size, e.Raw.size, end + " size written");
            Expect.Equal(DateTimeKind.Utc, e.Timestamp.Kind, end + " timestamp kind");
            // The close happens inside the exchange; 1 ms of slack for the clocks' granularity.
            Expect.True(e.Timestamp >= report.Before.AddMilliseconds(-1) && e.Timestamp <= report.After.AddMilliseconds(1),
                end + " timestamp " + e.Timestamp.ToString("o") + " outside [" + report.Before.ToString("o") + ", " + report.After.ToString("o") + "]");
            Expect.True(e.SmoothedRtt > TimeSpan.Zero, end + " srtt > 0");
            Expect.True(e.Duration > TimeSpan.Zero, end + " duration > 0");
            Expect.Equal(role == TcpRole.Active, e.ConnectTime > TimeSpan.Zero, end + " connect time only for the active end");
        }
    }
}
