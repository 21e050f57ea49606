using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Natter.Bench.Servers;

/// <summary>
/// An experiment for the echo baseline (`NATTER_ECHO_HANDSHAKE=raw`): the WebSocket upgrade of `GET /ws` answered on
/// Kestrel's raw connection, below ASP.NET Core's HTTP layer, so an open socket keeps none of the HTTP/1 objects
/// (connection, request and response headers, the request's context, streams and state machines). It measures
/// what that layer costs an idle socket; it is not a server: it checks only what a handshake needs, and anything
/// else goes on to Kestrel's HTTP handling untouched.
/// </summary>
public static class RawUpgrade
{
    private const int MaxHeadBytes = 8192;
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    public static ConnectionDelegate Around(ConnectionDelegate next, Func<WebSocket, CancellationToken, Task> serve) => async connection =>
    {
        var input = connection.Transport.Input;
        var result = await input.ReadAsync();
        var buffer = result.Buffer;
        SequencePosition? end;
        while ((end = HeadEndOf(buffer)) is null && !result.IsCompleted && buffer.Length < MaxHeadBytes)
        {
            input.AdvanceTo(buffer.Start, buffer.End);
            result = await input.ReadAsync();
            buffer = result.Buffer;
        }
        var head = end is { } e ? Encoding.ASCII.GetString(buffer.Slice(0, e).ToArray()) : null;
        var key = head is not null && head.StartsWith("GET /ws", StringComparison.Ordinal) ? HeaderOf(head, "Sec-WebSocket-Key") : null;
        if (key is null)
        {
            // Not ours: HTTP reads the same bytes again.
            input.AdvanceTo(buffer.Start);
            await next(connection);
            return;
        }
        input.AdvanceTo(end!.Value);
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"));
        using var socket = WebSocket.CreateFromStream(new DuplexStream(connection.Transport),
            new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        await serve(socket, connection.ConnectionClosed);
    };

    private static SequencePosition? HeadEndOf(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, HeadEnd, advancePastDelimiter: true) ? reader.Position : null;
    }

    private static string? HeaderOf(string head, string name)
    {
        foreach (var line in head.Split("\r\n"))
        {
            var colon = line.IndexOf(':');
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                return line[(colon + 1)..].Trim();
        }
        return null;
    }

    /// <summary>The connection's two pipes as one stream, as the WebSocket needs.</summary>
    private sealed class DuplexStream(IDuplexPipe pipe) : Stream
    {
        private readonly Stream _in = pipe.Input.AsStream();
        private readonly Stream _out = pipe.Output.AsStream();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => _out.Flush();
        public override Task FlushAsync(CancellationToken ct) => _out.FlushAsync(ct);
        public override int Read(byte[] buffer, int offset, int count) => _in.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => _in.ReadAsync(buffer, ct);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _in.ReadAsync(buffer, offset, count, ct);
        public override void Write(byte[] buffer, int offset, int count) => _out.Write(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _out.WriteAsync(buffer, ct);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _out.WriteAsync(buffer, offset, count, ct);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
