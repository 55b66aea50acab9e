using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using System.Threading;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>A program run to completion (or stopped), with its output collected line by line as it comes.</summary>
    public sealed class ChildProcess : IDisposable
    {
        readonly Process _process;
        readonly object _gate = new object();
        readonly List<string> _stdout = new List<string>();
        readonly List<string> _stderr = new List<string>();

        public ChildProcess(string program, IEnumerable<string> args, IDictionary<string, string> environment = null)
        {
            var info = new ProcessStartInfo(program, Quote(args))
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
            };
            if (environment != null)
                foreach (var pair in environment) info.EnvironmentVariables[pair.Key] = pair.Value;
            _process = new Process { StartInfo = info };
            _process.OutputDataReceived += (s, e) => { if (e.Data != null) Add(_stdout, e.Data); };
            _process.ErrorDataReceived += (s, e) => { if (e.Data != null) Add(_stderr, e.Data); };
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Pid { get { return _process.Id; } }

        void Add(List<string> lines, string line)
        {
            lock (_gate) { lines.Add(line); Monitor.PulseAll(_gate); }
        }

        public List<string> Stdout { get { lock (_gate) return new List<string>(_stdout); } }
        public List<string> Stderr { get { lock (_gate) return new List<string>(_stderr); } }

        /// <summary>Waits up to <paramref name="timeout"/> for a stderr line containing <paramref name="text"/>.</summary>
        public string WaitForStderr(string text, TimeSpan timeout)
        {
            return WaitFor(_stderr, text, timeout, "stderr");
        }

        /// <summary>Waits up to <paramref name="timeout"/> for a stdout line containing <paramref name="text"/>.</summary>
        public string WaitForStdout(string text, TimeSpan timeout)
        {
            return WaitFor(_stdout, text, timeout, "stdout");
        }

        string WaitFor(List<string> lines, string text, TimeSpan timeout, string stream)
        {
            var deadline = DateTime.UtcNow + timeout;
            lock (_gate)
            {
                while (true)
                {
                    foreach (var line in lines) if (line.Contains(text)) return line;
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero || _process.HasExited && lines.Count == 0)
                        throw new ExpectationFailed("no " + stream + " line with \"" + text + "\" within " + timeout.TotalSeconds + " s\n" + Transcript());
                    Monitor.Wait(_gate, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
                }
            }
        }

        /// <summary>Waits for the exit (killing the process after <paramref name="timeout"/>) and returns the code.</summary>
        public int WaitForExit(TimeSpan timeout)
        {
            if (!_process.WaitForExit((int)timeout.TotalMilliseconds))
            {
                _process.Kill();
                _process.WaitForExit();
                throw new ExpectationFailed("still running after " + timeout.TotalSeconds + " s (killed)\n" + Transcript());
            }
            _process.WaitForExit();  // the no-argument form also waits for the output to be read
            return _process.ExitCode;
        }

        /// <summary>Sends <paramref name="signal"/> (SIGINT, SIGTERM) to the process.</summary>
        public void Signal(Mono.Unix.Native.Signum signal)
        {
            if (Mono.Unix.Native.Syscall.kill(_process.Id, signal) != 0)
                throw new InvalidOperationException("kill(" + _process.Id + ", " + signal + ") failed");
        }

        /// <summary>Everything it printed, for failure messages.</summary>
        public string Transcript()
        {
            lock (_gate)
                return "--- stdout\n" + string.Join("\n", _stdout) + "\n--- stderr\n" + string.Join("\n", _stderr);
        }

        static string Quote(IEnumerable<string> args)
        {
            var text = new StringBuilder();
            foreach (var arg in args)
            {
                if (text.Length > 0) text.Append(' ');
                text.Append('"').Append(arg.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"');
            }
            return text.ToString();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }
}
