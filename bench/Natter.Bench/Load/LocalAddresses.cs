using System.Net;
using System.Net.Sockets;

namespace Natter.Bench.Load;

/// <summary>
/// Spreads client sockets over 127.0.0.1..127.0.0.N as source addresses, so many connections do not
/// exhaust one address's ephemeral ports (about 28,000 here).
/// </summary>
public sealed class LocalAddresses(int count)
{
    private readonly Lazy<HttpMessageInvoker>[] _invokers = Enumerable.Range(1, count)
        .Select(i => new Lazy<HttpMessageInvoker>(() => InvokerFrom(IPAddress.Parse($"127.0.0.{i}")))).ToArray();
    private int _next;

    /// <summary>
    /// The next address's invoker. One per address, shared by its connections for the process's life: a WebSocket
    /// leaves the handler's pool once upgraded, and a handler per connection was never disposed.
    /// </summary>
    public HttpMessageInvoker NextInvoker() => _invokers[Interlocked.Increment(ref _next) % count].Value;

    private static HttpMessageInvoker InvokerFrom(IPAddress source) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });
}
