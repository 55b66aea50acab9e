using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace EbpfEventInterceptor.Native
{
    /// <summary>
    /// The process's native environment, which is where the libraries read their start
    /// settings (EBPF_INTERCEPTOR_*, at AddProbe, on the caller's thread): the C API has no
    /// other way in. libc directly, because .NET's Environment.SetEnvironmentVariable only
    /// changes a managed copy on .NET Core. setenv is not safe against a concurrent getenv
    /// on another thread, so values are set only for the duration of one AddProbe call and
    /// then put back as they were.
    /// </summary>
    internal static class ProcessEnvironment
    {
#if NETCOREAPP3_0_OR_GREATER
        static ProcessEnvironment() { LibraryResolver.Register(); }
#endif

        [DllImport("libc", EntryPoint = "getenv")]
        static extern IntPtr getenv(byte[] name);

        [DllImport("libc", EntryPoint = "setenv", SetLastError = true)]
        static extern int setenv(byte[] name, byte[] value, int overwrite);

        [DllImport("libc", EntryPoint = "unsetenv", SetLastError = true)]
        static extern int unsetenv(byte[] name);

        /// <summary>A variable's value, or null if unset.</summary>
        internal static string Get(string name)
        {
            IntPtr value = getenv(NativeText.ToUtf8Z(name));
            return value == IntPtr.Zero ? null : Marshal.PtrToStringAnsi(value);
        }

        /// <summary>Sets (or, for null, unsets) a variable.</summary>
        internal static void Set(string name, string value)
        {
            int result = value == null
                ? unsetenv(NativeText.ToUtf8Z(name))
                : setenv(NativeText.ToUtf8Z(name), NativeText.ToUtf8Z(value), 1);
            if (result != 0)
                throw new InvalidOperationException("cannot set " + name + " (errno " + Marshal.GetLastWin32Error() + ")");
        }

        /// <summary>Runs <paramref name="action"/> with <paramref name="values"/> set, then restores them.</summary>
        internal static void With(IDictionary<string, string> values, Action action)
        {
            var previous = new Dictionary<string, string>();
            try
            {
                foreach (var pair in values)
                {
                    previous[pair.Key] = Get(pair.Key);
                    Set(pair.Key, pair.Value);
                }
                action();
            }
            finally
            {
                foreach (var pair in previous) Set(pair.Key, pair.Value);
            }
        }
    }
}
