using System;
using EbpfEventInterceptor.Native;

namespace EbpfEventInterceptor
{
    /// <summary>libudpEvent.so behind <see cref="NativeProtocol"/>.</summary>
    internal sealed class UdpProtocol : NativeProtocol
    {
        internal static readonly UdpProtocol Instance = new UdpProtocol();

        internal override string Name { get { return "UDP"; } }
        internal override void AddProbe() { UdpNative.AddProbe(); }
        internal override uint GetStatus() { return UdpNative.GetStatus(); }
        internal override void Cleanup() { UdpNative.Cleanup(); }
        internal override int SetFilter(byte[] utf8Spec) { return UdpNative.SetFilter(utf8Spec); }
        internal override int GetStats(out InterceptorStatsNative stats) { return UdpNative.GetStats(out stats); }
        internal override UIntPtr GetLastError(byte[] buffer, UIntPtr size) { return UdpNative.GetLastError(buffer, size); }
        internal override int GetLastErrorKind() { return UdpNative.GetLastErrorKind(); }
        internal override int ProbeAttachPath(byte[] utf8Path, byte[] reason, UIntPtr size) { return UdpNative.ProbeAttachPath(utf8Path, reason, size); }
    }
}
