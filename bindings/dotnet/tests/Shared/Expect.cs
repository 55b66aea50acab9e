using System;
using System.Collections.Generic;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>A failed expectation.</summary>
    public sealed class ExpectationFailed : Exception
    {
        public ExpectationFailed(string message) : base(message) { }
    }

    /// <summary>Assertions that say what was expected, what came, and about what.</summary>
    public static class Expect
    {
        public static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                throw new ExpectationFailed(what + ": expected <" + expected + ">, got <" + actual + ">");
        }

        public static void True(bool condition, string what)
        {
            if (!condition) throw new ExpectationFailed(what);
        }

        /// <summary>Runs <paramref name="action"/> and returns the exception of type T it must throw.</summary>
        public static T Throws<T>(Action action, string what) where T : Exception
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                if (e.GetType() == typeof(T)) return (T)e;
                throw new ExpectationFailed(what + ": expected " + typeof(T).Name + ", got " + e.GetType().Name + ": " + e.Message);
            }
            throw new ExpectationFailed(what + ": expected " + typeof(T).Name + ", nothing was thrown");
        }
    }
}
