using System;
using EbpfEventInterceptor.Native;

namespace EbpfEventInterceptor
{
    /// <summary>libtcpEvent.so behind <see cref="NativeProtocol"/>.</summary>
    internal sealed class TcpProtocol : NativeProtocol
    {
        internal static readonly TcpProtocol Instance = new TcpProtocol();

        internal override string Name { get { return "TCP"; } }
        // NULL: the built-in CO-RE program (the argument was the original's BCC source).
        internal override void AddProbe() { TcpNative.AddProbe(IntPtr.Zero); }
        internal override uint GetStatus() { return TcpNative.GetStatus(); }
        internal override void Cleanup() { TcpNative.Cleanup(); }
        internal override int SetFilter(byte[] utf8Spec) { return TcpNative.SetFilter(utf8Spec); }
        internal override int GetStats(out InterceptorStatsNative stats) { return TcpNative.GetStats(out stats); }
        internal override UIntPtr GetLastError(byte[] buffer, UIntPtr size) { return TcpNative.GetLastError(buffer, size); }
        internal override int GetLastErrorKind() { return TcpNative.GetLastErrorKind(); }
        internal override int ProbeAttachPath(byte[] utf8Path, byte[] reason, UIntPtr size) { return TcpNative.ProbeAttachPath(utf8Path, reason, size); }
    }
}
