using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.WebUtilities;
using Natter.Messages.Protocol;

namespace Natter.Cluster.Edge.Sockets;

/// <summary>
/// A Kestrel connection middleware that answers the WebSocket upgrade of /ws on the raw connection, below ASP.NET
/// Core's HTTP layer. An upgraded HTTP/1 request keeps its connection, request, headers, context, streams and state
/// machines for the socket's whole life, about 6 KB of every idle socket (docs/benchmarks.md); answered here, the
/// socket keeps none of them. It is a shortcut to the same socket, not a second server: it takes a connection only
/// if its first request is a well-formed upgrade of /ws (<see cref="UpgradeHead"/>), admits it as
/// <see cref="ClientSocketHandler"/> does and answers refusals with the same JSON errors. Everything else (other
/// paths, HTTP/2, TLS in Kestrel, heads over 8 KiB or of a shape it does not know) reaches Kestrel's HTTP unread,
/// where /ws is still served through ASP.NET Core's WebSocket middleware.
/// </summary>
public sealed class ConnectionUpgrade(IServiceProvider services, TimeSpan headTimeout)
{
    private static readonly byte[] TimedOut = Encoding.ASCII.GetBytes(
        "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

    private ClientSocketHandler? _sockets;

    public ConnectionDelegate Around(ConnectionDelegate next) => connection => ServeAsync(connection, next);

    private async Task ServeAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var (outcome, head) = await UpgradeHead.ReadFirstAsync(connection.Transport.Input, headTimeout);
        if (outcome == UpgradeHead.Outcome.NotOurs)
        {
            await next(connection);
            return;
        }
        if (outcome == UpgradeHead.Outcome.TimedOut) await connection.Transport.Output.WriteAsync(TimedOut);
        if (outcome != UpgradeHead.Outcome.Upgrade) return;

        // Resolved at the first upgrade, not when Kestrel binds: the handler needs the actor registry, filled as the host starts.
        var sockets = _sockets ??= services.GetRequiredService<ClientSocketHandler>();
        var (principal, refusal) = await sockets.AdmitAsync(head!.Token, (connection.RemoteEndPoint as IPEndPoint)?.Address);
        if (refusal is var (code, message))
        {
            await connection.Transport.Output.WriteAsync(Refusal(code, message));
            return;
        }
        await connection.Transport.Output.WriteAsync(head.SwitchingProtocols());
        head = null; // the token is not needed for the socket's life
        using var socket = WebSocket.CreateFromStream(new DuplexPipeStream(connection.Transport),
            new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        await sockets.ServeAsync(socket, principal!, EdgeMetrics.ConnectionHandshake, connection.ConnectionClosed);
    }

    /// <summary>The same {"error":{"code","message"}} body and status as <see cref="ApiErrors.Write"/>.</summary>
    private static byte[] Refusal(string code, string message)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new ApiErrors.ErrorBody(new ApiErrors.ErrorDetail(code, message)), ProtocolJson.Options);
        var status = ApiErrors.StatusFor(code);
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {ReasonPhrases.GetReasonPhrase(status)}\r\n" +
            $"Content-Type: application/json; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        return [.. head, .. body];
    }
}
