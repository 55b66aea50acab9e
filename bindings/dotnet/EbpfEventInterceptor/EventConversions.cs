using System;
using System.Net;
using System.Net.Sockets;

namespace EbpfEventInterceptor
{
    /// <summary>From the libraries' integers to .NET types, in one place for both protocols.</summary>
    internal static class EventConversions
    {
        static readonly DateTime Epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        /// <summary>Unix-epoch nanoseconds as a UTC DateTime (100 ns ticks: the last two digits go).</summary>
        internal static DateTime UtcFromUnixNanoseconds(ulong nanoseconds)
        {
            return Epoch.AddTicks((long)(nanoseconds / 100));
        }

        /// <summary>AF_INET (2) and AF_INET6 (10) as .NET's enum; anything else as Unknown.</summary>
        internal static AddressFamily Family(ushort family)
        {
            return family == 2 ? AddressFamily.InterNetwork
                 : family == 10 ? AddressFamily.InterNetworkV6
                 : AddressFamily.Unknown;
        }

        /// <summary>A raw 16-byte network-order address: IPv4 in the first 4 bytes for AF_INET.</summary>
        internal static IPAddress Address(AddressFamily family, byte[] raw)
        {
            if (family == AddressFamily.InterNetwork)
            {
                var v4 = new byte[4];
                Array.Copy(raw, v4, 4);
                return new IPAddress(v4);
            }
            return new IPAddress(raw);
        }

        /// <summary>Microseconds as a TimeSpan.</summary>
        internal static TimeSpan Microseconds(uint microseconds)
        {
            return TimeSpan.FromTicks(microseconds * 10L);
        }

        /// <summary>Nanoseconds as a TimeSpan (100 ns ticks).</summary>
        internal static TimeSpan Nanoseconds(ulong nanoseconds)
        {
            return TimeSpan.FromTicks((long)(nanoseconds / 100));
        }
    }
}
