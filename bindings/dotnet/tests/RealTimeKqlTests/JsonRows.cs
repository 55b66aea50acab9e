using System;
using System.Collections.Generic;
using System.Linq;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>
    /// RealTimeKql's ConsoleJsonOutput on stdout: each result row is an indented JSON object
    /// ("{" alone on a line ... "}" alone on a line); everything else is its logger's lines.
    /// </summary>
    public sealed class JsonRows
    {
        public List<JObject> Rows = new List<JObject>();
        public List<string> OtherLines = new List<string>();

        public static JsonRows Parse(IEnumerable<string> stdout)
        {
            var result = new JsonRows();
            List<string> block = null;
            foreach (string line in stdout)
            {
                if (block == null && line == "{") block = new List<string>();
                if (block == null)
                {
                    result.OtherLines.Add(line);
                    continue;
                }
                block.Add(line);
                if (line == "}")
                {
                    // Dates stay text: the test compares what RealTimeKql printed.
                    var settings = new JsonSerializerSettings { DateParseHandling = DateParseHandling.None };
                    result.Rows.Add(JsonConvert.DeserializeObject<JObject>(string.Join("\n", block), settings));
                    block = null;
                }
            }
            return result;
        }

        /// <summary>Rows that have column <paramref name="column"/> (telling the queries of one file apart).</summary>
        public List<JObject> With(string column)
        {
            return Rows.Where(r => r.Property(column) != null).ToList();
        }

        /// <summary>A row as "name=value, ..." in its column order, for exact comparison.</summary>
        public static string Text(JObject row)
        {
            return string.Join(", ", row.Properties().Select(p => p.Name + "=" + (p.Value.Type == JTokenType.String ? (string)p.Value : p.Value.ToString(Formatting.None))));
        }
    }
}
