using System;
using System.Threading;

namespace EbpfEventInterceptor.Tests
{
    /// <summary>Runs work on a new thread whose comm is set first, and hands back its result or exception.</summary>
    public static class NamedThread
    {
        public static T Run<T>(string comm, Func<T> work)
        {
            T result = default(T);
            Exception failure = null;
            var thread = new Thread(() =>
            {
                try
                {
                    ThreadIdentity.SetComm(comm);
                    result = work();
                }
                catch (Exception e)
                {
                    failure = e;
                }
            });
            thread.Start();
            if (!thread.Join(TimeSpan.FromSeconds(30))) throw new TimeoutException("thread " + comm + " did not finish in 30 s");
            if (failure != null) throw new InvalidOperationException("thread " + comm + " failed", failure);
            return result;
        }
    }
}
