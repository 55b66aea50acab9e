using System;
using System.IO;
using System.Linq;
using Mono.Unix;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>This process's network namespace and cgroup ids, read the way the kernel states them.</summary>
    public static class ProcessFacts
    {
        /// <summary>The inode of /proc/self/ns/net (its link reads "net:[INODE]").</summary>
        public static long NetworkNamespace
        {
            get
            {
                string link = new UnixSymbolicLinkInfo("/proc/self/ns/net").ContentsPath;
                return long.Parse(link.Substring("net:[".Length, link.Length - "net:[".Length - 1));
            }
        }

        /// <summary>The cgroup v2 id: the inode of this process's directory under /sys/fs/cgroup.</summary>
        public static ulong CgroupId
        {
            get
            {
                string line = File.ReadAllLines("/proc/self/cgroup").Single(l => l.StartsWith("0::"));
                return (ulong)new UnixFileInfo("/sys/fs/cgroup" + line.Substring(3)).Inode;
            }
        }
    }
}
