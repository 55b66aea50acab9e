using System.IO;
using System.Reflection;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>Where things are: the repository (--repo) and the build (target/dotnet).</summary>
    public static class TestEnvironment
    {
        public static string Repo;

        public static string BuildDirectory { get { return Path.GetDirectoryName(Assembly.GetEntryAssembly().Location); } }

        /// <summary>bindings/dotnet/&lt;relative&gt;.</summary>
        public static string Bindings(string relative) { return Path.Combine(Repo, "bindings/dotnet", relative); }

        /// <summary>A program of the build.</summary>
        public static string Built(string file) { return Path.Combine(BuildDirectory, file); }
    }
}
