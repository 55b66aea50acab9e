using System;

namespace EbpfEventInterceptor
{
    /// <summary>
    /// A library's last error (<c>*_GetLastError</c> and <c>*_GetLastErrorKind</c>), and the
    /// .NET exception each kind becomes, always carrying the library's own one-line message
    /// (the same text it prints on stderr).
    /// </summary>
    public sealed class LibraryError
    {
        /// <summary>The kind of failure.</summary>
        public InterceptorErrorKind Kind { get; private set; }

        /// <summary>The library's message; empty if none.</summary>
        public string Message { get; private set; }

        internal LibraryError(InterceptorErrorKind kind, string message)
        {
            Kind = kind;
            Message = message ?? string.Empty;
        }

        /// <summary>
        /// Permission: <see cref="UnauthorizedAccessException"/>; invalid argument:
        /// <see cref="ArgumentException"/>; unsupported kernel:
        /// <see cref="PlatformNotSupportedException"/>; anything else:
        /// <see cref="InvalidOperationException"/>. The kind is also in Exception.Data["Kind"].
        /// </summary>
        public Exception ToException()
        {
            string message = Message.Length > 0 ? Message : "the library failed without saying why (" + Kind + ")";
            Exception exception;
            switch (Kind)
            {
                case InterceptorErrorKind.Permission: exception = new UnauthorizedAccessException(message); break;
                case InterceptorErrorKind.InvalidArgument: exception = new ArgumentException(message); break;
                case InterceptorErrorKind.Unsupported: exception = new PlatformNotSupportedException(message); break;
                default: exception = new InvalidOperationException(message); break;
            }
            exception.Data["Kind"] = Kind;
            return exception;
        }

        /// <inheritdoc/>
        public override string ToString() { return Kind + ": " + Message; }
    }
}
