using System;
using System.Runtime.InteropServices;
using System.Text;

namespace EbpfEventInterceptor.Native
{
    /// <summary>
    /// C strings and byte buffers between the libraries and .NET. The libraries speak UTF-8
    /// (filter specs, messages); comm names are whatever bytes a process set, so decoding is
    /// lenient (invalid bytes become U+FFFD rather than an exception in the event loop).
    /// </summary>
    public static unsafe class NativeText
    {
        /// <summary>The text before the first NUL of a fixed buffer of <paramref name="capacity"/> bytes.</summary>
        public static string Decode(byte* buffer, int capacity)
        {
            int length = 0;
            while (length < capacity && buffer[length] != 0) length++;
            return length == 0 ? string.Empty : Encoding.UTF8.GetString(buffer, length);
        }

        /// <summary>A copy of a fixed buffer.</summary>
        public static byte[] Copy(byte* buffer, int length)
        {
            var copy = new byte[length];
            Marshal.Copy((IntPtr)buffer, copy, 0, length);
            return copy;
        }

        /// <summary>
        /// <paramref name="text"/> as a NUL-terminated UTF-8 array (null stays null: the
        /// libraries read NULL as "none"). Passed as byte[] rather than string so the runtime's
        /// default string marshalling (ANSI on one runtime, UTF-8 on another) never matters.
        /// </summary>
        public static byte[] ToUtf8Z(string text)
        {
            if (text == null) return null;
            int count = Encoding.UTF8.GetByteCount(text);
            var bytes = new byte[count + 1];
            Encoding.UTF8.GetBytes(text, 0, text.Length, bytes, 0);
            return bytes;
        }

        /// <summary>The text before the first NUL of a byte array filled by the library.</summary>
        public static string FromUtf8Z(byte[] bytes)
        {
            int length = Array.IndexOf(bytes, (byte)0);
            if (length < 0) length = bytes.Length;
            return Encoding.UTF8.GetString(bytes, 0, length);
        }
    }
}
