using System.Net;
using System.Net.WebSockets;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Options;
using Natter.Actors.Connections;
using Natter.Actors.Hosting;
using Natter.Actors.Services;
using Natter.Cluster.Edge.Auth;
using Natter.Messages.Protocol;
using static Natter.Actors.Connections.ConnectionMessages;

namespace Natter.Cluster.Edge.Sockets;

/// <summary>
/// Serves /ws: admits the upgrade (a valid token of a device still on its account), spawns the socket's
/// ConnectionActor, then reads frames until the socket closes. Bad input is answered on this socket only; a frame
/// over the limit closes it with 1009. Most upgrades reach it from <see cref="ConnectionUpgrade"/>, below HTTP; the
/// rest through ASP.NET Core's WebSocket middleware (<see cref="HandleAsync"/>).
/// </summary>
public sealed class ClientSocketHandler(
    ActorSystem system,
    ChatGateway gateway,
    IRequiredActor<PresenceRegion> presence,
    IRequiredActor<ChatFanoutActor> fanout,
    DeviceAdmission admission,
    EdgeMetrics metrics,
    IOptions<ConnectionSettings> settings,
    ILogger<ClientSocketHandler> logger)
{
    /// <summary>The upgrades <see cref="ConnectionUpgrade"/> left to HTTP (HTTP/2, TLS in Kestrel, large heads).</summary>
    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ApiErrors.Write(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidField, "expected a WebSocket upgrade");
            return;
        }
        var (principal, refusal) = await AdmitAsync(BearerToken.From(context), context.Connection.RemoteIpAddress);
        if (refusal is var (code, message))
        {
            await ApiErrors.Write(context, ApiErrors.StatusFor(code), code, message);
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        // The upgrade request lives as long as the socket; its headers (the bearer token among them) are not
        // read again, and a connection need not hold them.
        context.Request.Headers.Clear();
        await ServeAsync(socket, principal!, EdgeMetrics.HttpHandshake, context.RequestAborted);
    }

    /// <summary>The device a token names, if it may open a socket (<see cref="DeviceAdmission"/>); a refusal is logged.</summary>
    public async Task<(DevicePrincipal? Principal, (string Code, string Message)? Refusal)> AdmitAsync(string? token, IPAddress? remote)
    {
        var admitted = await admission.AdmitAsync(token);
        if (admitted.Refusal is { } refused)
            logger.LogWarning("Refused WebSocket upgrade from {Remote}: {Reason}", remote, refused.Message);
        return admitted;
    }

    /// <summary>Runs an accepted socket to its end: its actor, then its frames until it closes.</summary>
    /// <param name="handshake">Which layer answered the upgrade (<see cref="EdgeMetrics"/>).</param>
    public async Task ServeAsync(WebSocket socket, DevicePrincipal principal, string handshake, CancellationToken ct)
    {
        metrics.Upgraded(handshake);
        var limits = settings.Value;
        var outbound = new SocketOutbound(socket, limits.OutboundQueueFrames, logger);
        var connectionId = ConnectionActor.NewConnectionId();
        var presenceRegion = await presence.GetAsync(ct);
        var chatFanout = await fanout.GetAsync(ct);
        var connection = system.ActorOf(
            CompactMailbox.Apply(ConnectionActor.PropsFor(principal.User, principal.Device, connectionId, principal.ExpiresAt, outbound,
                gateway, presenceRegion, chatFanout, limits)),
            ConnectionActor.NameFor(principal.User, principal.Device, connectionId));

        // The read loop is written out here rather than in a method of its own: each async method waiting for the
        // socket's life keeps its own state machine on the heap, about 200 bytes per connection.
        var maxFrameBytes = limits.MaxFrameBytes;
        var reader = new WebSocketMessageReader(socket, maxFrameBytes);
        var reason = "socket no longer open";
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var (outcome, type, bytes) = await reader.ReadAsync(ct);
                if (outcome == WebSocketMessageReader.Outcome.Closed)
                {
                    reason = await ClosedByClientAsync(socket, ct);
                    break;
                }
                if (outcome == WebSocketMessageReader.Outcome.TooBig)
                {
                    logger.LogWarning("Closing {User}/{Device}: frame over {Max} bytes", principal.User, principal.Device, maxFrameBytes);
                    await socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, $"frames are at most {maxFrameBytes} bytes", ct);
                    reason = "frame too big";
                    break;
                }
                if (type == WebSocketMessageType.Binary)
                {
                    Refuse(connection, principal, new ErrorFrame(ErrorCodes.MalformedJson, "frames are JSON text; binary frames are not accepted"));
                    continue;
                }
                var read = ClientFrameReader.Read(bytes.Span);
                if (read.Frame is not null) connection.Tell(new Inbound(read.Frame));
                else Refuse(connection, principal, read.Error!);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            reason = e.Message;
        }
        catch (Exception e)
        {
            // A fault in reading one socket must end only that socket, and its actor with it.
            logger.LogError(e, "Reading from {User}/{Device} failed; closing the socket", principal.User, principal.Device);
            reason = "internal error";
            if (socket.State == WebSocketState.Open)
                await socket.CloseOutputAsync(WebSocketCloseStatus.InternalServerError, "internal error", CancellationToken.None);
        }
        finally
        {
            reader.Dispose();
            // Even if closing the socket threw: the actor must not outlive its socket.
            connection.Tell(new SocketClosed(reason));
        }
        // A writer still stuck after this is ended by disposing the socket. (WaitAsync drops its timer as soon as the
        // drain ends, where a Task.Delay would keep one for the full 5 s after every close.)
        try
        {
            await outbound.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }
    }

    private static async Task<string> ClosedByClientAsync(WebSocket socket, CancellationToken ct)
    {
        if (socket.State == WebSocketState.CloseReceived)
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", ct);
        return "client closed";
    }

    private void Refuse(IActorRef connection, DevicePrincipal who, ErrorFrame error)
    {
        logger.LogWarning("Bad frame from {User}/{Device}: {Code} {Message}", who.User, who.Device, error.Code, error.Message);
        connection.Tell(new InboundInvalid(error));
    }
}
