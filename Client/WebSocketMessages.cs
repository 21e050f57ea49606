using System.Net.WebSockets;

namespace Natter.Client;

/// <summary>Reads one whole WebSocket message, however many frames it arrives in.</summary>
public static class WebSocketMessages
{
    /// <summary>The message's bytes in <paramref name="message"/> (cleared first); false once the socket is closing.</summary>
    public static async Task<bool> ReadAsync(WebSocket socket, byte[] buffer, MemoryStream message, CancellationToken ct)
    {
        message.SetLength(0);
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close) return false;
            message.Write(buffer, 0, result.Count);
        } while (!result.EndOfMessage);
        return true;
    }
}
