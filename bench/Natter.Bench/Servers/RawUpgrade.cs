using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Natter.Cluster.Edge.Sockets;

namespace Natter.Bench.Servers;

/// <summary>
/// The echo baseline's experiment switch (`NATTER_ECHO_HANDSHAKE=raw`): the upgrade of `GET /ws` answered on
/// Kestrel's raw connection with the edge's own reader (<see cref="UpgradeHead"/>), as the edge does by default, so
/// the echo holds a socket the way the edge does. No token: a baseline, not a server; anything it does not take goes
/// on to Kestrel's HTTP.
/// </summary>
public static class RawUpgrade
{
    public static ConnectionDelegate Around(ConnectionDelegate next, Func<WebSocket, CancellationToken, Task> serve) => async connection =>
    {
        var (outcome, head) = await UpgradeHead.ReadFirstAsync(connection.Transport.Input, TimeSpan.FromSeconds(130), TimeSpan.FromSeconds(30));
        if (outcome == UpgradeHead.Outcome.NotOurs) await next(connection);
        if (outcome != UpgradeHead.Outcome.Upgrade) return;
        using var socket = await head!.AcceptAsync(connection.Transport);
        await serve(socket, connection.ConnectionClosed);
    };
}
