#if NETCOREAPP3_0_OR_GREATER
using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

namespace EbpfEventInterceptor.Native
{
    /// <summary>
    /// Where the libraries are on .NET (Core) 3.0+, which ignores Mono's dllmap:
    /// <c>$EBPF_INTERCEPTOR_LIB_DIR</c> if set, else /opt/RealTimeKql/lib if the file is there,
    /// else the dynamic linker's own search (an /etc/ld.so.conf.d entry, LD_LIBRARY_PATH).
    /// Mono uses EbpfEventInterceptor.dll.config instead (it has no NativeLibrary). "libc"
    /// (for the environment calls) is glibc's libc.so.6: the bare name is not a file, and
    /// libc.so is a linker script where the C headers are installed.
    /// </summary>
    internal static class LibraryResolver
    {
        internal const string InstallDirectory = "/opt/RealTimeKql/lib";
        internal const string DirectoryVariable = "EBPF_INTERCEPTOR_LIB_DIR";

        static int _registered;

        /// <summary>Installs the resolver once; called before the first call into either library.</summary>
        internal static void Register()
        {
            if (Interlocked.Exchange(ref _registered, 1) == 0)
                NativeLibrary.SetDllImportResolver(typeof(LibraryResolver).Assembly, Resolve);
        }

        static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (name == "libc") return NativeLibrary.Load("libc.so.6");
            string file = name == TcpNative.Library ? "libtcpEvent.so"
                        : name == UdpNative.Library ? "libudpEvent.so"
                        : null;
            if (file == null) return IntPtr.Zero;  // anything else: the default rules
            string directory = Environment.GetEnvironmentVariable(DirectoryVariable);
            if (!string.IsNullOrEmpty(directory))
                return NativeLibrary.Load(Path.Combine(directory, file));
            string installed = Path.Combine(InstallDirectory, file);
            if (File.Exists(installed))
                return NativeLibrary.Load(installed);
            IntPtr handle;
            return NativeLibrary.TryLoad(file, out handle) ? handle : IntPtr.Zero;
        }
    }
}
#endif
