using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using EbpfEventInterceptor.Native;

namespace EbpfEventInterceptor
{
    /// <summary>
    /// One library (libtcpEvent.so or libudpEvent.so) as the tracers use it: its calls
    /// behind one interface, and its session lifecycle. Each library keeps one session per
    /// process, so each protocol has one instance and at most one tracer at a time.
    /// </summary>
    internal abstract class NativeProtocol
    {
        /// <summary>How often the start waits look at getStatus() and the last error.</summary>
        static readonly TimeSpan StartPoll = TimeSpan.FromMilliseconds(5);

        int _claimed;

        /// <summary>"TCP" or "UDP", as in the variable names.</summary>
        internal abstract string Name { get; }

        internal abstract void AddProbe();
        internal abstract uint GetStatus();
        internal abstract void Cleanup();
        internal abstract int SetFilter(byte[] utf8Spec);
        internal abstract int GetStats(out InterceptorStatsNative stats);
        internal abstract UIntPtr GetLastError(byte[] buffer, UIntPtr size);
        internal abstract int GetLastErrorKind();
        internal abstract int ProbeAttachPath(byte[] utf8Path, byte[] reason, UIntPtr size);

        /// <summary>The library's last error and its kind.</summary>
        internal LibraryError LastError()
        {
            var kind = (InterceptorErrorKind)GetLastErrorKind();
            // GetLastError returns the full length, like snprintf: ask again if it was cut.
            var buffer = new byte[512];
            ulong length = GetLastError(buffer, (UIntPtr)buffer.Length).ToUInt64();
            if (length >= (ulong)buffer.Length)
            {
                buffer = new byte[length + 1];
                GetLastError(buffer, (UIntPtr)buffer.Length);
            }
            return new LibraryError(kind, NativeText.FromUtf8Z(buffer));
        }

        /// <summary>The session's counters now.</summary>
        internal InterceptorStats Stats()
        {
            InterceptorStatsNative raw;
            if (GetStats(out raw) != 0)
                throw new InvalidOperationException(Name + " GetStats failed");
            return new InterceptorStats(raw);
        }

        /// <summary>Sets the in-kernel filter; a bad spec throws ArgumentException with the library's reason.</summary>
        internal void ApplyFilter(string spec)
        {
            if (SetFilter(NativeText.ToUtf8Z(spec ?? string.Empty)) != 0)
                throw LastError().ToException();
        }

        /// <summary>Asks the kernel whether <paramref name="path"/> works, without touching a running session.</summary>
        internal AttachPathSupport Probe(string path, out string reason)
        {
            var buffer = new byte[512];
            int result = ProbeAttachPath(NativeText.ToUtf8Z(path), buffer, (UIntPtr)buffer.Length);
            reason = NativeText.FromUtf8Z(buffer);
            return result == 1 ? AttachPathSupport.Supported
                 : result == 0 ? AttachPathSupport.Unsupported
                 : AttachPathSupport.CannotProbe;
        }

        /// <summary>
        /// Claims this protocol for one tracer and starts a session: filter, AddProbe with the
        /// options' variables, then waits until getStatus() is 1 (running) or the library
        /// records an error (AddProbe only starts a thread and returns). Any failure cleans
        /// up, releases the claim and throws the library's error.
        /// </summary>
        internal void Start(TracerOptions options, string tracerName)
        {
            if (Interlocked.CompareExchange(ref _claimed, 1, 0) != 0)
                throw new InvalidOperationException(
                    "a " + tracerName + " is already running in this process (the library keeps one session per protocol per process); dispose it first");
            try
            {
                // Also clears a filter a previous tracer set: the library keeps it across sessions.
                ApplyFilter(options.Filter);
                ProcessEnvironment.With(options.ToEnvironment(Name), AddProbe);
                WaitStarted(options.StartTimeout);
            }
            catch
            {
                Cleanup();
                Release();
                throw;
            }
        }

        void WaitStarted(TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (GetStatus() == 1) return;
                LibraryError error = LastError();
                if (error.Kind != InterceptorErrorKind.None) throw error.ToException();
                if (clock.Elapsed >= timeout)
                    throw new TimeoutException("lib" + Name.ToLowerInvariant() + "Event did not attach within " + timeout.TotalSeconds + " s");
                Thread.Sleep(StartPoll);
            }
        }

        /// <summary>Lets another tracer of this protocol start (after its cleanup()).</summary>
        internal void Release()
        {
            Interlocked.Exchange(ref _claimed, 0);
        }
    }
}
