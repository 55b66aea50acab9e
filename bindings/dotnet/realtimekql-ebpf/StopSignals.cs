using System;
using System.Threading;
using Mono.Unix;
using Mono.Unix.Native;

namespace RealTimeKqlEbpf
{
    /// <summary>
    /// SIGINT and SIGTERM as wait handles. Under Mono, Console.CancelKeyPress only fires with
    /// a terminal: run from a service, a pipe or a test, SIGINT and SIGTERM would kill mono
    /// before anything is stopped or flushed. Mono.Posix's UnixSignal catches both in every
    /// case (and, once it owns SIGINT, EventComponent's own CancelKeyPress handler no longer
    /// runs, so Stop() is called once, by the program).
    /// </summary>
    internal sealed class StopSignals : IDisposable
    {
        readonly UnixSignal[] _signals = { new UnixSignal(Signum.SIGINT), new UnixSignal(Signum.SIGTERM) };

        /// <summary>
        /// Waits up to <paramref name="milliseconds"/> for either signal: its index for
        /// <see cref="NameOf"/>, or -1 on timeout. (UnixSignal.WaitAny, never
        /// WaitHandle.WaitAny: these are not OS handles, and Mono aborts on them.)
        /// </summary>
        internal int WaitAny(int milliseconds)
        {
            int index = UnixSignal.WaitAny(_signals, milliseconds);
            return index >= 0 && index < _signals.Length ? index : -1;
        }

        /// <summary>"SIGINT" or "SIGTERM" for an index from <see cref="WaitAny"/>.</summary>
        internal string NameOf(int index) { return _signals[index].Signum.ToString(); }

        public void Dispose()
        {
            foreach (var signal in _signals) signal.Dispose();
        }
    }
}
