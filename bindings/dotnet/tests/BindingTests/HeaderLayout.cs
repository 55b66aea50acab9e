using System;
using System.Collections.Generic;
using System.IO;
using System.Text.RegularExpressions;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>One field of a struct as the generated header states it.</summary>
    public sealed class HeaderField
    {
        public string CType;
        public string Name;
        public int Count;     // array length; 1 for a scalar
        public int Offset;
    }

    /// <summary>
    /// A struct of include/*.h, read from the generated header's own comments
    /// ("uint32_t pid; /* offset 16 */" ... "}; /* 288 bytes */"), so the binding is checked
    /// against the header that ships, not against numbers copied into the test.
    /// </summary>
    public sealed class HeaderLayout
    {
        static readonly Regex FieldLine = new Regex(@"^\s+(\w+)\s+(\w+)(?:\[(\d+)\])?;\s*/\* offset (\d+) \*/");
        static readonly Regex EndLine = new Regex(@"^\};\s*/\* (\d+) bytes \*/");

        public List<HeaderField> Fields = new List<HeaderField>();
        public int Size;

        public static HeaderLayout Read(string headerPath, string structName)
        {
            var layout = new HeaderLayout();
            bool inside = false;
            foreach (string line in File.ReadLines(headerPath))
            {
                if (!inside)
                {
                    inside = line.StartsWith("struct " + structName + " {");
                    continue;
                }
                Match end = EndLine.Match(line);
                if (end.Success)
                {
                    layout.Size = int.Parse(end.Groups[1].Value);
                    return layout;
                }
                Match field = FieldLine.Match(line);
                if (field.Success)
                    layout.Fields.Add(new HeaderField
                    {
                        CType = field.Groups[1].Value,
                        Name = field.Groups[2].Value,
                        Count = field.Groups[3].Success ? int.Parse(field.Groups[3].Value) : 1,
                        Offset = int.Parse(field.Groups[4].Value),
                    });
            }
            throw new ExpectationFailed("struct " + structName + " with offset comments not found in " + headerPath);
        }

        /// <summary>The size of one element of a header type.</summary>
        public static int ElementSize(string cType)
        {
            switch (cType)
            {
                case "char": case "uint8_t": return 1;
                case "uint16_t": return 2;
                case "uint32_t": case "int32_t": return 4;
                case "uint64_t": return 8;
                default: throw new ExpectationFailed("unknown header type " + cType);
            }
        }

        /// <summary>The .NET element type a header type must map to.</summary>
        public static Type ElementType(string cType)
        {
            switch (cType)
            {
                case "char": case "uint8_t": return typeof(byte);
                case "uint16_t": return typeof(ushort);
                case "uint32_t": return typeof(uint);
                case "int32_t": return typeof(int);
                case "uint64_t": return typeof(ulong);
                default: throw new ExpectationFailed("unknown header type " + cType);
            }
        }
    }
}
