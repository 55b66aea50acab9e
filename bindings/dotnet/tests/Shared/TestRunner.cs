using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>
    /// A minimal test runner for the Mono build (no NUnit/xUnit in Debian's Mono set): named
    /// tests run one at a time, each printing PASS or FAIL with the reason; the summary line
    /// says how many ran. It fails when any test fails, when a name given on the command line
    /// matches nothing, and when nothing ran at all: a test is never skipped quietly.
    /// </summary>
    public sealed class TestRunner
    {
        readonly List<KeyValuePair<string, Action>> _tests = new List<KeyValuePair<string, Action>>();

        /// <summary>Registers a test.</summary>
        public void Add(string name, Action test)
        {
            foreach (var existing in _tests)
                if (existing.Key == name) throw new InvalidOperationException("two tests named " + name);
            _tests.Add(new KeyValuePair<string, Action>(name, test));
        }

        /// <summary>Runs the tests named in <paramref name="only"/> (all if empty); returns the exit code.</summary>
        public int Run(string suite, IList<string> only)
        {
            foreach (var name in only)
                if (!_tests.Exists(t => t.Key == name))
                {
                    Console.WriteLine("FAIL " + suite + ": no test named " + name);
                    return 1;
                }
            int passed = 0, failed = 0;
            foreach (var test in _tests)
            {
                if (only.Count > 0 && !only.Contains(test.Key)) continue;
                var clock = Stopwatch.StartNew();
                try
                {
                    test.Value();
                    passed++;
                    Console.WriteLine("PASS {0} ({1} ms)", test.Key, clock.ElapsedMilliseconds);
                }
                catch (Exception e)
                {
                    failed++;
                    Console.WriteLine("FAIL {0} ({1} ms): {2}", test.Key, clock.ElapsedMilliseconds, e);
                }
            }
            Console.WriteLine("{0}: {1} passed, {2} failed", suite, passed, failed);
            return failed == 0 && passed > 0 ? 0 : 1;
        }
    }
}
