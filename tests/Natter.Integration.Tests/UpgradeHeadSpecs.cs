using System.Buffers;
using System.Text;
using Natter.Cluster.Edge.Sockets;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// What the edge's connection-level handshake takes as a WebSocket upgrade of /ws. Whatever it does not take goes to
/// Kestrel's HTTP, so the specs here are about never taking a head HTTP would read differently.
/// </summary>
public sealed class UpgradeHeadSpecs
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private static string Head(string requestLine = "GET /ws HTTP/1.1", params string[] extra) =>
        string.Join("\r\n", new[] { requestLine, "Host: 127.0.0.1:5000", "Upgrade: websocket", "Connection: Upgrade",
            $"Sec-WebSocket-Key: {Key}", "Sec-WebSocket-Version: 13" }.Concat(extra));

    private static UpgradeHead.Start Classify(string received) =>
        UpgradeHead.Classify(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(received)));

    [Theory]
    [InlineData("", UpgradeHead.Start.Undecided)]
    [InlineData("GET /w", UpgradeHead.Start.Undecided)]
    [InlineData("GET /ws", UpgradeHead.Start.Undecided)]
    [InlineData("GET /ws ", UpgradeHead.Start.Candidate)]
    [InlineData("GET /ws?access_token=x", UpgradeHead.Start.Candidate)]
    [InlineData("GET /wsx HTTP/1.1", UpgradeHead.Start.Other)]
    [InlineData("GET /ws/x HTTP/1.1", UpgradeHead.Start.Other)]
    [InlineData("GET /api/chats HTTP/1.1", UpgradeHead.Start.Other)]
    [InlineData("POST /ws HTTP/1.1", UpgradeHead.Start.Other)]
    [InlineData("PRI * HTTP/2.0", UpgradeHead.Start.Other)]
    [InlineData("\x16\x03\x01", UpgradeHead.Start.Other)]
    public void The_first_bytes_tell_a_candidate_from_everything_else(string received, UpgradeHead.Start expected) =>
        Assert.Equal(expected, Classify(received));

    [Fact]
    public void A_well_formed_upgrade_is_taken_with_the_bearer_token()
    {
        var head = UpgradeHead.Parse(Head(extra: "Authorization: Bearer v1.abc"));
        Assert.Equal(new UpgradeHead(Key, "v1.abc"), head);
        // RFC 6455's own example: this key gives this accept value.
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", Encoding.ASCII.GetString(head!.SwitchingProtocols()));
    }

    [Fact]
    public void A_browser_upgrade_takes_the_token_from_the_query_decoded()
    {
        var head = UpgradeHead.Parse(Head("GET /ws?x=1&access_token=v1.a%2Bb HTTP/1.1", "Connection: keep-alive"));
        Assert.Equal("v1.a+b", head!.Token);
    }

    [Fact]
    public void Header_names_and_list_tokens_are_case_insensitive()
    {
        var head = UpgradeHead.Parse(string.Join("\r\n", "GET /ws HTTP/1.1", "host: h", "UPGRADE: WebSocket",
            "connection: keep-alive, upgrade", $"sec-websocket-key: {Key}", "sec-websocket-version: 13"));
        Assert.NotNull(head);
        Assert.Null(head.Token);
    }

    public static TheoryData<string> NotOurs() => new()
    {
        Head("GET /ws HTTP/1.0"),
        Head("GET  /ws HTTP/1.1"),
        Head("GET /ws/deeper HTTP/1.1"),
        Head("GET http://host/ws HTTP/1.1"),
        Head().Replace("Host: 127.0.0.1:5000\r\n", ""),
        Head(extra: "Host: other"),
        Head().Replace("Upgrade: websocket", "Upgrade: h2c"),
        Head().Replace("Connection: Upgrade", "Connection: keep-alive"),
        Head().Replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
        Head().Replace(Key, "short"),
        Head().Replace(Key, "dGhlIHNhbXBsZSBub25jZSBhbmQgbW9yZQ=="),
        Head(extra: $"Sec-WebSocket-Key: {Key}"),
        Head(extra: "Content-Length: 5"),
        Head(extra: "Transfer-Encoding: chunked"),
        Head(extra: "Bad Header: x"),
        Head(extra: "NoColon"),
        Head(extra: " folded: continuation"),
        Head(extra: "X-Control: a\x01b"),
        Head(extra: ["Authorization: Bearer a", "Authorization: Bearer b"]),
        Head(extra: "X-Latin: caf\u00e9"),
        Head(extra: "X-Null: a\0b"),
        Head(extra: "X-Bare: a\rb"),
        Head(extra: "X-Bare: a\nb"),
        Head("GET /ws?a=\tb HTTP/1.1"),
        Head("GET /ws?a=\u00e9 HTTP/1.1"),
        Head(extra: Enumerable.Range(0, UpgradeHead.MaxHeaderLines).Select(i => $"X-{i}: {i}").ToArray()),
    };

    [Theory]
    [MemberData(nameof(NotOurs))]
    public void A_head_that_is_not_exactly_an_upgrade_of_ws_is_left_to_http(string head) =>
        Assert.Null(UpgradeHead.Parse(head));

    [Fact]
    public void A_head_that_arrived_in_many_pieces_is_found_and_read_whole()
    {
        var bytes = Encoding.ASCII.GetBytes(Head(extra: "Authorization: Bearer v1.split") + "\r\n\r\n");
        var pieces = Pieces(bytes, 7);
        var length = UpgradeHead.LengthOf(pieces);
        Assert.Equal(bytes.Length - 4, length);
        Assert.Equal("v1.split", UpgradeHead.Parse(pieces.Slice(0, length))!.Token);
    }

    /// <summary>The bytes as a sequence of segments of <paramref name="size"/> bytes, as a socket's reads leave them.</summary>
    private static ReadOnlySequence<byte> Pieces(byte[] bytes, int size)
    {
        var first = new Segment(bytes.AsMemory(0, Math.Min(size, bytes.Length)), 0);
        var last = first;
        for (var offset = size; offset < bytes.Length; offset += size)
            last = last.Append(bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset)));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    [Fact]
    public void The_head_ends_at_its_blank_line_and_only_within_the_limit()
    {
        var bytes = Encoding.ASCII.GetBytes(Head() + "\r\n\r\n" + "frame bytes");
        Assert.Equal(Head().Length, UpgradeHead.LengthOf(new ReadOnlySequence<byte>(bytes)));
        var large = Encoding.ASCII.GetBytes(Head(extra: "X-Pad: " + new string('a', UpgradeHead.MaxBytes)) + "\r\n\r\n");
        Assert.Equal(-1, UpgradeHead.LengthOf(new ReadOnlySequence<byte>(large)));
    }
}
