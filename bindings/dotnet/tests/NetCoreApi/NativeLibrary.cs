// The .NET (Core 3.0+) API the binding's LibraryResolver uses, declared with the real
// signatures so that build.sh can type-check the .NET-only code with Mono's mcs (Mono has no
// NativeLibrary). Compiled only for that check; never shipped, never run.
using System.Reflection;

namespace System.Runtime.InteropServices
{
    public delegate IntPtr DllImportResolver(string libraryName, Assembly assembly, DllImportSearchPath? searchPath);

    public static class NativeLibrary
    {
        public static void SetDllImportResolver(Assembly assembly, DllImportResolver resolver) { throw new NotSupportedException(); }
        public static IntPtr Load(string libraryPath) { throw new NotSupportedException(); }
        public static bool TryLoad(string libraryName, out IntPtr handle) { throw new NotSupportedException(); }
    }
}
