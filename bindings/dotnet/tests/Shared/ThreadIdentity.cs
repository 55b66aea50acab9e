using System;
using System.Runtime.InteropServices;
using System.Text;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>
    /// The calling thread's comm (what the libraries report as task), and the process's ids.
    /// Tests make traffic on a thread they name, so the events' comm is known exactly.
    /// </summary>
    public static class ThreadIdentity
    {
        const int PR_SET_NAME = 15;

        [DllImport("libc", SetLastError = true)]
        static extern int prctl(int option, byte[] arg2, IntPtr arg3, IntPtr arg4, IntPtr arg5);

        [DllImport("libc")]
        static extern uint getuid();

        [DllImport("libc")]
        static extern int getpid();

        /// <summary>Sets this thread's comm (at most 15 bytes, as the kernel keeps it).</summary>
        public static void SetComm(string name)
        {
            if (Encoding.ASCII.GetByteCount(name) > 15) throw new ArgumentException("comm longer than 15 bytes: " + name);
            var bytes = new byte[16];
            Encoding.ASCII.GetBytes(name, 0, name.Length, bytes, 0);
            if (prctl(PR_SET_NAME, bytes, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero) != 0)
                throw new InvalidOperationException("prctl(PR_SET_NAME) failed: errno " + Marshal.GetLastWin32Error());
        }

        /// <summary>The real uid.</summary>
        public static uint Uid { get { return getuid(); } }

        /// <summary>The process id (tgid).</summary>
        public static int Pid { get { return getpid(); } }
    }
}
