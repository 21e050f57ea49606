using System.Net;
using System.Net.Sockets;

namespace Natter.Bench.Load;

/// <summary>
/// Spreads client sockets over 127.0.0.1..127.0.0.N as source addresses, so many connections do not
/// exhaust one address's ephemeral ports (about 28,000 here).
/// </summary>
public sealed class LocalAddresses(int count)
{
    private int _next;

    public HttpMessageInvoker NextInvoker()
    {
        var source = IPAddress.Parse($"127.0.0.{1 + Interlocked.Increment(ref _next) % count}");
        var handler = new SocketsHttpHandler
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
        };
        return new HttpMessageInvoker(handler);
    }
}
