using System;
using System.Collections.Generic;
using System.Globalization;

namespace RealTimeKqlEbpf
{
    /// <summary>
    /// realtimekql-ebpf's arguments:
    ///   realtimekql-ebpf tcp|udp --query FILE.kql [--query ...] [--output json|table]
    ///                    [--filter SPEC] [--max-events N] [--duration SECONDS]
    /// Options also take RealTimeKql's own --name=value form (--query=FILE.kql).
    /// </summary>
    internal sealed class CommandLine
    {
        internal const string Usage =
            "usage: realtimekql-ebpf tcp|udp --query FILE.kql [--query FILE.kql ...] [--output json|table]\n" +
            "                        [--filter SPEC] [--max-events N] [--duration SECONDS]\n" +
            "  Runs RealTimeKql's KQL queries over live TCP or UDP events of libtcpEvent.so / libudpEvent.so\n" +
            "  and prints the results with RealTimeKql's console output (json: default, or table).\n" +
            "  Stops on SIGINT (Ctrl+C) or SIGTERM, or after N events or SECONDS.\n" +
            "  --filter: the libraries' in-kernel filter, e.g. \"port=443,comm=curl\".\n" +
            "  Start settings come from EBPF_INTERCEPTOR_* variables (see README).";

        internal string Protocol { get; private set; }
        internal List<string> Queries { get; private set; }
        internal string Output { get; private set; }
        internal string Filter { get; private set; }
        internal long MaxEvents { get; private set; }
        internal TimeSpan? Duration { get; private set; }

        CommandLine()
        {
            Queries = new List<string>();
            Output = "json";
        }

        /// <summary>The parsed arguments; ArgumentException says what is wrong.</summary>
        internal static CommandLine Parse(string[] args)
        {
            var line = new CommandLine();
            if (args.Length == 0) throw new ArgumentException("tcp or udp is required");
            line.Protocol = args[0];
            if (line.Protocol != "tcp" && line.Protocol != "udp")
                throw new ArgumentException("the first argument must be tcp or udp, not \"" + args[0] + "\"");
            for (int i = 1; i < args.Length; i++)
            {
                string name = args[i], value;
                int equals = name.IndexOf('=');
                if (name.StartsWith("--") && equals > 0)
                {
                    value = name.Substring(equals + 1);
                    name = name.Substring(0, equals);
                }
                else
                {
                    if (i + 1 >= args.Length) throw new ArgumentException(name + " needs a value");
                    value = args[++i];
                }
                switch (name)
                {
                    case "--query": case "-q": line.Queries.Add(value); break;
                    case "--output": case "-o": line.Output = value; break;
                    case "--filter": line.Filter = value; break;
                    case "--max-events": line.MaxEvents = PositiveNumber(name, value); break;
                    case "--duration": line.Duration = TimeSpan.FromSeconds(PositiveNumber(name, value)); break;
                    default: throw new ArgumentException("unknown option " + name);
                }
            }
            if (line.Queries.Count == 0) throw new ArgumentException("--query FILE.kql is required");
            if (line.Output != "json" && line.Output != "table")
                throw new ArgumentException("--output must be json or table, not \"" + line.Output + "\"");
            return line;
        }

        static long PositiveNumber(string name, string value)
        {
            long number;
            if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number <= 0)
                throw new ArgumentException(name + " takes a whole number above 0, not \"" + value + "\"");
            return number;
        }
    }
}
