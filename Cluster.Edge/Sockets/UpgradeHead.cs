using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.WebUtilities;

namespace Natter.Cluster.Edge.Sockets;

/// <summary>
/// The head of an HTTP/1.1 request that opens a WebSocket on /ws (RFC 6455 §4.2.1), as
/// <see cref="ConnectionUpgrade"/> reads it off the raw connection. It takes only a head it fully understands; for
/// anything else it says no, and Kestrel's HTTP parser (with its own limits and errors) reads the same bytes.
/// </summary>
public sealed record UpgradeHead(string Key, string? Token)
{
    /// <summary>A head longer than this goes to HTTP, which allows 32 KiB of headers.</summary>
    public const int MaxBytes = 8 * 1024;

    /// <summary>Kestrel's default MaxRequestHeaderCount: a head with more lines goes to HTTP, which refuses it.</summary>
    public const int MaxHeaderLines = 100;

    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static ReadOnlySpan<byte> RequestStart => "GET /ws"u8;
    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    public enum Start
    {
        /// <summary>Too few bytes yet to tell.</summary>
        Undecided,
        /// <summary>Begins "GET /ws " or "GET /ws?".</summary>
        Candidate,
        /// <summary>Anything else: another path, another method, HTTP/2's preface, TLS.</summary>
        Other,
    }

    public enum Outcome
    {
        /// <summary>Not an upgrade this parser takes: nothing was consumed, HTTP reads the same bytes.</summary>
        NotOurs,
        /// <summary>The head was consumed; what follows it is the WebSocket's.</summary>
        Upgrade,
        /// <summary>A head begun but not complete within its deadline (counted from its first byte).</summary>
        TimedOut,
        /// <summary>Not a byte within the silence bound, as Kestrel's keep-alive timeout would close it.</summary>
        Silent,
        /// <summary>The client closed or reset the connection before its head was complete.</summary>
        Gone,
    }

    /// <summary>
    /// Reads the connection's first head without consuming or examining anything that is not ours, so HTTP reads
    /// the same bytes at once. Until the first byte the bound is <paramref name="silence"/> (Kestrel's keep-alive
    /// timeout); from it, <paramref name="headTimeout"/>, as Kestrel's request-headers timeout counts.
    /// </summary>
    public static async Task<(Outcome, UpgradeHead?)> ReadFirstAsync(PipeReader input, TimeSpan silence, TimeSpan headTimeout)
    {
        using var deadline = new CancellationTokenSource(silence);
        var heard = false;
        long searched = 0;
        try
        {
            var result = await input.ReadAsync(deadline.Token);
            while (true)
            {
                var buffer = result.Buffer;
                if (!heard && !buffer.IsEmpty)
                {
                    heard = true;
                    deadline.CancelAfter(headTimeout);
                }
                var start = Classify(buffer);
                var length = start == Start.Candidate ? LengthOf(buffer, ref searched) : -1;
                if (length >= 0 && Parse(buffer.Slice(0, length)) is { } head)
                {
                    input.AdvanceTo(buffer.GetPosition(length + HeadEnd.Length));
                    return (Outcome.Upgrade, head);
                }
                input.AdvanceTo(buffer.Start);
                if (start == Start.Other || length >= 0 || buffer.Length >= MaxBytes) return (Outcome.NotOurs, null);
                if (result.IsCompleted || result.IsCanceled) return (Outcome.Gone, null);
                result = await input.ReadAtLeastAsync((int)buffer.Length + 1, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return (heard ? Outcome.TimedOut : Outcome.Silent, null);
        }
        catch (Exception e) when (e is IOException or ConnectionAbortedException or ObjectDisposedException)
        {
            return (Outcome.Gone, null);
        }
    }

    /// <summary>Whether the first bytes of a connection could begin an upgrade of /ws.</summary>
    public static Start Classify(ReadOnlySequence<byte> received)
    {
        Span<byte> first = stackalloc byte[RequestStart.Length + 1];
        var count = (int)Math.Min(received.Length, first.Length);
        received.Slice(0, count).CopyTo(first);
        var compared = Math.Min(count, RequestStart.Length);
        if (!first[..compared].SequenceEqual(RequestStart[..compared])) return Start.Other;
        if (count < first.Length) return Start.Undecided;
        return first[^1] is (byte)' ' or (byte)'?' ? Start.Candidate : Start.Other;
    }

    /// <summary>The length of the head (up to its blank line, which it excludes) within <see cref="MaxBytes"/>, or -1.</summary>
    public static int LengthOf(ReadOnlySequence<byte> received)
    {
        long searched = 0;
        return LengthOf(received, ref searched);
    }

    /// <summary>As <see cref="LengthOf(ReadOnlySequence{byte})"/>, searching on from where the last search of the same head stopped.</summary>
    private static int LengthOf(ReadOnlySequence<byte> received, ref long searched)
    {
        var window = received.Slice(0, Math.Min(received.Length, MaxBytes));
        var from = Math.Max(0, searched - (HeadEnd.Length - 1));
        var reader = new SequenceReader<byte>(window.Slice(from));
        if (reader.TryReadTo(out ReadOnlySequence<byte> _, HeadEnd, advancePastDelimiter: false)) return (int)(from + reader.Consumed);
        searched = window.Length;
        return -1;
    }

    /// <summary>The upgrade a head asks for; null if it is not a well-formed WebSocket upgrade of /ws.</summary>
    public static UpgradeHead? Parse(ReadOnlySequence<byte> head) => Parse(Encoding.Latin1.GetString(head));

    public static UpgradeHead? Parse(string head)
    {
        var lines = head.Split("\r\n");
        // Printable ASCII and tabs only: no NUL, no bare CR or LF, no bytes HTTP would decode as UTF-8.
        if (lines.Length > MaxHeaderLines + 1 || lines.Any(line => line.Any(c => (c < ' ' && c != '\t') || c > '~'))) return null;
        var request = lines[0].Split(' ');
        if (request is not ["GET", var target, "HTTP/1.1"] || target.Any(c => c <= ' ')) return null;
        var queryStart = target.IndexOf('?');
        if ((queryStart < 0 ? target : target[..queryStart]) != "/ws") return null;

        string? host = null, upgrade = null, connection = null, version = null, key = null, authorization = null;
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0 || !IsToken(line.AsSpan(0, colon))) return null;
            var value = line[(colon + 1)..].Trim(' ', '\t');
            switch (line[..colon].ToLowerInvariant())
            {
                case "host" when host is null: host = value; break;
                case "upgrade": upgrade = upgrade is null ? value : $"{upgrade},{value}"; break;
                case "connection": connection = connection is null ? value : $"{connection},{value}"; break;
                case "sec-websocket-version" when version is null: version = value; break;
                case "sec-websocket-key" when key is null: key = value; break;
                case "authorization" when authorization is null: authorization = value; break;
                // A repeated host, version, key or authorization, or a body on a GET: HTTP decides what to make of it.
                case "host" or "sec-websocket-version" or "sec-websocket-key" or "authorization" or "content-length" or "transfer-encoding":
                    return null;
            }
        }
        if (host is null || !HasToken(upgrade, "websocket") || !HasToken(connection, "upgrade") || version != "13" || !IsKey(key))
            return null;
        return new UpgradeHead(key!, TokenOf(authorization, queryStart < 0 ? "" : target[queryStart..]));
    }

    /// <summary>The 101 that completes the handshake.</summary>
    public byte[] SwitchingProtocols()
    {
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(Key + AcceptGuid)));
        return Encoding.ASCII.GetBytes(
            $"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
    }

    /// <summary>Answers the handshake with its 101 and opens the server's WebSocket over the connection's pipes.</summary>
    public async Task<WebSocket> AcceptAsync(IDuplexPipe transport)
    {
        await transport.Output.WriteAsync(SwitchingProtocols());
        // No keep-alive frames: the protocol's own ping and pong keep the connection busy (docs/protocol.md §3).
        return WebSocket.CreateFromStream(new DuplexPipeStream(transport), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
    }

    /// <summary>As <see cref="Auth.BearerToken"/>: "Authorization: Bearer ..." first, else the access_token parameter.</summary>
    private static string? TokenOf(string? authorization, string query)
    {
        if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization["Bearer ".Length..].Trim();
        var token = QueryHelpers.ParseQuery(query).TryGetValue("access_token", out var values) ? values.ToString() : "";
        return token.Length == 0 ? null : token;
    }

    private static bool HasToken(string? list, string token)
    {
        if (list is null) return false;
        foreach (var item in list.Split(','))
            if (item.Trim(' ', '\t').Equals(token, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    private static bool IsKey(string? key)
    {
        Span<byte> nonce = stackalloc byte[16];
        return key is { Length: 24 } && Convert.TryFromBase64String(key, nonce, out var written) && written == 16;
    }

    private static bool IsToken(ReadOnlySpan<char> name)
    {
        foreach (var c in name)
            if (c <= ' ' || c >= '\x7f' || "\"(),/:;<=>?@[\\]{}".Contains(c)) return false;
        return true;
    }
}
