using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EbpfEventInterceptor.Native;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>The blittable structs against the generated headers: every field's name, type, size and offset, and the total.</summary>
    public static class LayoutTests
    {
        public static void Register(TestRunner runner, string repo)
        {
            string tcp = Path.Combine(repo, "include/tcpEvent.h"), udp = Path.Combine(repo, "include/udpEvent.h");
            runner.Add("layout_tcp_event_ex_t", () => Check(typeof(TcpEventEx), HeaderLayout.Read(tcp, "tcp_event_ex_t"), TcpEventEx.Size));
            runner.Add("layout_udp_event_ex_t", () => Check(typeof(UdpEventEx), HeaderLayout.Read(udp, "udp_event_ex_t"), UdpEventEx.Size));
            runner.Add("layout_event_interceptor_stats", () =>
            {
                Check(typeof(InterceptorStatsNative), HeaderLayout.Read(tcp, "event_interceptor_stats"), InterceptorStatsNative.Size);
                Check(typeof(InterceptorStatsNative), HeaderLayout.Read(udp, "event_interceptor_stats"), InterceptorStatsNative.Size);
            });
        }

        static void Check(Type type, HeaderLayout header, int declaredSize)
        {
            Expect.Equal(header.Size, declaredSize, type.Name + ".Size against the header");
            Expect.Equal(header.Size, Marshal.SizeOf(type), "Marshal.SizeOf(" + type.Name + ")");
            Expect.Equal(header.Size, ManagedSize(type), "sizeof(" + type.Name + ") (blittable: managed = native)");
            var fields = type.GetFields(BindingFlags.Public | BindingFlags.Instance);
            foreach (HeaderField hf in header.Fields)
            {
                FieldInfo field = fields.SingleOrDefault(f => f.Name == hf.Name);
                Expect.True(field != null, header.Fields.Count + "-field header has " + hf.CType + " " + hf.Name +
                    " at offset " + hf.Offset + ", which " + type.Name + " lacks: update the binding");
                Expect.Equal(hf.Offset, (int)Marshal.OffsetOf(type, hf.Name), type.Name + "." + hf.Name + " offset");
                var fixedBuffer = field.GetCustomAttribute<FixedBufferAttribute>();
                Type elementType = fixedBuffer != null ? fixedBuffer.ElementType : field.FieldType;
                int count = fixedBuffer != null ? fixedBuffer.Length : 1;
                Expect.Equal(HeaderLayout.ElementType(hf.CType), elementType, type.Name + "." + hf.Name + " element type");
                Expect.Equal(hf.Count, count, type.Name + "." + hf.Name + " length");
            }
            Expect.Equal(header.Fields.Count, fields.Length, type.Name + " fields against the header's");
        }

        static unsafe int ManagedSize(Type type)
        {
            if (type == typeof(TcpEventEx)) return sizeof(TcpEventEx);
            if (type == typeof(UdpEventEx)) return sizeof(UdpEventEx);
            return sizeof(InterceptorStatsNative);
        }
    }
}
