using System.Net;
using System.Net.Sockets;

namespace Natter.Testing;

/// <summary>A TCP port on 127.0.0.1 that nothing listens on right now, for a server a test or the harness starts.</summary>
public static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
