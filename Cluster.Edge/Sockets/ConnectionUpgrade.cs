using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.WebUtilities;
using Natter.Cluster.Edge.Auth;
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
public sealed class ConnectionUpgrade(IServiceProvider services, TimeSpan silence, TimeSpan headTimeout)
{
    private ClientSocketHandler? _sockets;
    private ILogger? _logger;

    public ConnectionDelegate Around(ConnectionDelegate next) => connection => ServeAsync(connection, next);

    private async Task ServeAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var (outcome, head) = await UpgradeHead.ReadFirstAsync(connection.Transport.Input, silence, headTimeout);
        if (outcome == UpgradeHead.Outcome.NotOurs)
        {
            await next(connection);
            return;
        }
        // Resolved at the first connection, not when Kestrel binds: the handler needs the actor registry, filled as the host starts.
        var sockets = _sockets ??= services.GetRequiredService<ClientSocketHandler>();
        var logger = _logger ??= services.GetRequiredService<ILogger<ConnectionUpgrade>>();
        WebSocket? socket = null;
        try
        {
            if (outcome == UpgradeHead.Outcome.TimedOut)
            {
                logger.LogDebug("Connection {Id}: a /ws head not complete within {Timeout}; 408", connection.ConnectionId, headTimeout);
                await connection.Transport.Output.WriteAsync(Response(StatusCodes.Status408RequestTimeout));
            }
            if (outcome != UpgradeHead.Outcome.Upgrade) return;

            var (principal, refusal) = await AdmitAsync(sockets, head!, connection, logger);
            if (refusal is var (code, message))
            {
                await connection.Transport.Output.WriteAsync(Refusal(code, message));
                return;
            }
            socket = await head!.AcceptAsync(connection.Transport);
            head = null; // the token is not needed for the socket's life
            await sockets.ServeAsync(socket, principal!, EdgeMetrics.ConnectionHandshake, connection.ConnectionClosed);
        }
        catch (Exception e) when (e is IOException or ConnectionAbortedException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away mid-handshake, or as its socket started: as on the HTTP path, not an error.
            logger.LogDebug("Connection {Id} ended during the WebSocket handshake: {Reason}", connection.ConnectionId, e.Message);
        }
        finally
        {
            // An aborted socket (its outbound gave up on a client that stopped reading) must not leave Kestrel waiting
            // to send that client the rest. Any other end is graceful: a close frame just written still goes out.
            if (socket?.State == WebSocketState.Aborted) connection.Abort(new ConnectionAbortedException("WebSocket aborted"));
            socket?.Dispose();
        }
    }

    private static async Task<(DevicePrincipal?, (string Code, string Message)?)> AdmitAsync(
        ClientSocketHandler sockets, UpgradeHead head, ConnectionContext connection, ILogger logger)
    {
        try
        {
            return await sockets.AdmitAsync(head.Token, (connection.RemoteEndPoint as IPEndPoint)?.Address);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Admitting the WebSocket upgrade of connection {Id} failed", connection.ConnectionId);
            return (null, (ErrorCodes.Internal, "internal error"));
        }
    }

    /// <summary>The same {"error":{"code","message"}} body and status as <see cref="ApiErrors.Write"/>.</summary>
    private static byte[] Refusal(string code, string message) =>
        Response(ApiErrors.StatusFor(code), JsonSerializer.SerializeToUtf8Bytes(new ApiErrors.ErrorBody(new ApiErrors.ErrorDetail(code, message)), ProtocolJson.Options));

    /// <summary>A final response that closes the connection, as HTTP/1.1 asks of one (a Date header included).</summary>
    private static byte[] Response(int status, byte[]? json = null)
    {
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {ReasonPhrases.GetReasonPhrase(status)}\r\nDate: {DateTime.UtcNow:R}\r\n" +
            (json is null ? "" : "Content-Type: application/json; charset=utf-8\r\n") +
            $"Content-Length: {json?.Length ?? 0}\r\nConnection: close\r\n\r\n");
        return [.. head, .. json ?? []];
    }
}
