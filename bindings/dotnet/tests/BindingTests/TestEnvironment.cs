using System;
using System.IO;
using System.Reflection;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>Where things are: the repository (for the headers, scripts and examples) and the built programs.</summary>
    public static class TestEnvironment
    {
        /// <summary>The repository's root (--repo).</summary>
        public static string Repo;

        /// <summary>The directory of the test program and the rest of the build (target/dotnet).</summary>
        public static string BuildDirectory { get { return Path.GetDirectoryName(Assembly.GetEntryAssembly().Location); } }

        /// <summary>This test program's path.</summary>
        public static string Self { get { return Assembly.GetEntryAssembly().Location; } }

        /// <summary>bindings/dotnet/&lt;relative&gt;.</summary>
        public static string Bindings(string relative) { return Path.Combine(Repo, "bindings/dotnet", relative); }
    }
}
