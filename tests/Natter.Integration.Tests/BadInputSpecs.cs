using Natter.Testing;
using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Natter.Client;
using Natter.Cluster.Edge.Auth;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages;
using Natter.Messages.Protocol;
using Xunit;
using DeviceSession = Natter.Client.DeviceSession;

namespace Natter.Integration.Tests;

/// <summary>
/// Bad input gets its documented error (or close code), is logged, and harms neither the other
/// connections nor anything stored.
/// </summary>
public sealed class BadInputSpecs : IAsyncLifetime
{
    private InProcessServer _server = null!;
    private DeviceSession _alice = null!;
    private DeviceSession _bob = null!;
    private string _chatId = null!;
    private NatterConnection _bystander = null!;

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync(Journal.Sqlite());
        _alice = await _server.RegisterAsync();
        _bob = await _server.RegisterAsync();
        _chatId = (await _server.Api.OpenChatAsync(_alice.AccessToken, "+" + _bob.UserId)).ChatId;
        await _server.Api.PostMessageAsync(_alice.AccessToken, _chatId, "before-1", [1]);
        // Bob stays connected through every test: bad input elsewhere must not disturb him.
        _bystander = await _server.ConnectAsync(_bob);
        await _bystander.SyncAsync();
    }

    public async Task DisposeAsync()
    {
        await BystanderIsUnaffectedAndNothingIsLost();
        await _bystander.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task BystanderIsUnaffectedAndNothingIsLost()
    {
        var ack = await _server.Api.PostMessageAsync(_alice.AccessToken, _chatId, $"after-{Guid.NewGuid():N}", [2]);
        await _bystander.Received.WaitForCountAsync(_chatId, (int)ack.Seq, TimeSpan.FromSeconds(20));
        var history = await _server.Api.GetMessagesAsync(_bob.AccessToken, _chatId, limit: 100);
        Assert.Equal(Enumerable.Range(1, (int)ack.Seq).Reverse().Select(i => (long)i), history.Messages.Select(m => m.Seq));
        Assert.Equal("before-1", history.Messages[^1].ClientMsgId);
    }

    private async Task<ErrorFrame> ErrorAfterRawAsync(string raw)
    {
        await using var socket = await _server.ConnectAsync(_alice);
        await socket.SendRawAsync(raw);
        var error = await socket.NextAsync<ErrorFrame>();
        // The connection itself is still fine.
        await socket.PingAsync(7);
        Assert.Equal(7, (await socket.NextAsync<PongFrame>()).T);
        return error;
    }

    private string ServerLog() => File.ReadAllText(Path.Combine(_server.DataDirectory, "server.log"));

    [Theory]
    [InlineData("{not json", ErrorCodes.MalformedJson)]
    [InlineData("[1,2,3]", ErrorCodes.MalformedJson)]
    [InlineData("{\"type\":\"teleport\",\"to\":\"mars\"}", ErrorCodes.UnknownType)]
    [InlineData("{\"chatId\":\"x\"}", ErrorCodes.MissingField)]
    [InlineData("{\"type\":\"send\",\"chatId\":\"d.1.2\",\"clientMsgId\":\"c1\"}", ErrorCodes.MissingField)]
    [InlineData("{\"type\":\"send\",\"chatId\":\"d.1.2\",\"clientMsgId\":\"c1\",\"body\":\"***not base64***\"}", ErrorCodes.InvalidField)]
    [InlineData("{\"type\":\"delivered\",\"chatId\":\"d.1.2\",\"seq\":\"soon\"}", ErrorCodes.InvalidField)]
    [InlineData("{\"type\":\"history\",\"chatId\":\"d.1.2\",\"limit\":100000}", ErrorCodes.InvalidField)]
    [InlineData("{\"type\":\"send\",\"chatId\":\"d.1.2\",\"clientMsgId\":\"c1\",\"body\":null}", ErrorCodes.MissingField)]
    [InlineData("{\"type\":\"read\",\"chatId\":null,\"seq\":1}", ErrorCodes.MissingField)]
    [InlineData("{\"type\":\"history\",\"chatId\":null}", ErrorCodes.MissingField)]
    [InlineData("{\"type\":\"open_chat\",\"peer\":null}", ErrorCodes.MissingField)]
    public async Task A_bad_frame_gets_its_documented_error_and_the_connection_stays_usable(string raw, string code)
    {
        var error = await ErrorAfterRawAsync(raw);
        Assert.Equal(code, error.Code);
        Assert.Contains($"Bad frame from {_alice.UserId}/{_alice.DeviceId}: {code}", ServerLog());
    }

    [Fact]
    public async Task A_missing_field_error_names_the_field_and_refers_to_the_clientMsgId()
    {
        var error = await ErrorAfterRawAsync("{\"type\":\"send\",\"chatId\":\"d.1.2\",\"clientMsgId\":\"c9\"}");
        Assert.Contains("body", error.Message);
        Assert.Equal("c9", error.Ref);
    }

    [Theory]
    [InlineData("{\"type\":\"send\",\"chatId\":\"d.1.2\",\"clientMsgId\":\"c1\",\"body\":null}")]
    [InlineData("{\"type\":\"send\",\"chatId\":\"d.1.2\",\"clientMsgId\":\"c1\",\"body\":\"***not base64***\"}")]
    [InlineData("{\"type\":\"send\",\"chatId\":\"d.1.2\",\"clientMsgId\":\"c1\",\"body\":\"\"}")]
    public async Task An_error_that_answers_a_send_names_its_chat(string raw)
    {
        var error = await ErrorAfterRawAsync(raw);
        Assert.Equal(("c1", "d.1.2"), (error.Ref, error.ChatId));
    }

    [Fact]
    public async Task An_error_that_answers_another_frame_names_no_chat()
    {
        var error = await ErrorAfterRawAsync("{\"type\":\"history\",\"rid\":\"h1\",\"chatId\":\"d.1.2\",\"limit\":100000}");
        Assert.Equal(("h1", (string?)null), (error.Ref, error.ChatId));
    }

    [Fact]
    public async Task Sends_with_one_clientMsgId_in_two_chats_get_each_its_own_answer()
    {
        // A clientMsgId is unique only within a chat: the refusal of one must not answer the other.
        await using var socket = await _server.ConnectAsync(_alice);
        var someoneElses = ChatId.Direct(new UserId(_bob.UserId), UserId.FromPhoneNumber("15559990000")!.Value).Value;
        var refused = socket.SendPipelinedAsync(someoneElses, "same", [1]);
        var accepted = socket.SendPipelinedAsync(_chatId, "same", [2]);

        var error = await Assert.ThrowsAsync<NatterApiException>(() => refused);
        Assert.Equal(ErrorCodes.NotMember, error.Code);
        var ack = Assert.IsType<AckFrame>(await accepted);
        Assert.Equal((_chatId, "same", false), (ack.ChatId, ack.ClientMsgId, ack.Duplicate));
        Assert.Contains(socket.Received.Of(_chatId), m => m.Seq == ack.Seq && m.ClientMsgId == "same");
    }

    [Fact]
    public async Task A_resend_while_the_send_is_pending_gets_the_same_ack()
    {
        await using var socket = await _server.ConnectAsync(_alice);
        var first = socket.SendPipelinedAsync(_chatId, "twice", [3]);
        var again = socket.SendPipelinedAsync(_chatId, "twice", [3]);

        // Whether the resend shared the pending send's answer or got its own (duplicate) ack, it is the same message.
        var (a, b) = (Assert.IsType<AckFrame>(await first), Assert.IsType<AckFrame>(await again));
        Assert.Equal(a.Seq, b.Seq);
        Assert.Single(socket.Received.Of(_chatId), m => m.ClientMsgId == "twice");
        Assert.Equal(0, socket.Received.Duplicates);
    }

    [Fact]
    public async Task A_binary_frame_is_refused_as_not_json()
    {
        await using var socket = await _server.ConnectAsync(_alice);
        await socket.SendBytesAsync([1, 2, 3], type: WebSocketMessageType.Binary);
        Assert.Equal(ErrorCodes.MalformedJson, (await socket.NextAsync<ErrorFrame>()).Code);
    }

    [Fact]
    public async Task A_10_MB_frame_closes_only_that_socket_with_1009()
    {
        await using var socket = await _server.ConnectAsync(_alice);
        var huge = new byte[10 * 1024 * 1024];
        Array.Fill(huge, (byte)'a');
        try { await socket.SendBytesAsync(huge); }
        catch (WebSocketException) { /* the server may close while we are still sending */ }
        await socket.Closed.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
        Assert.Contains("frame over", ServerLog());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_body_too_large()
    {
        await using var socket = await _server.ConnectAsync(_alice);
        var error = await Assert.ThrowsAsync<NatterApiException>(() => socket.SendAsync(_chatId, "big", new byte[65 * 1024]));
        Assert.Equal(ErrorCodes.BodyTooLarge, error.Code);
        var rest = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.PostMessageAsync(_alice.AccessToken, _chatId, "big", new byte[65 * 1024]));
        Assert.Equal((ErrorCodes.BodyTooLarge, 413), (rest.Code, rest.HttpStatus));
    }

    public static TheoryData<string> BadTokens() => new()
    {
        "",
        "garbage",
        "v1.15550000001.1.9999999999.forged-signature",
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_token_is_refused_at_the_upgrade_and_on_rest(string token)
    {
        var upgrade = await Assert.ThrowsAsync<WebSocketException>(() => NatterConnection.ConnectAsync(_server.BaseAddress, token));
        Assert.Contains("401", upgrade.Message);
        var rest = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.GetChatsAsync(token));
        Assert.Equal((ErrorCodes.Unauthorized, 401), (rest.Code, rest.HttpStatus));
        Assert.Contains("Refused", ServerLog());
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var tokens = _server.Services.GetRequiredService<AccessTokens>();
        var (expired, _) = tokens.Issue(new UserId(_alice.UserId), new DeviceId(_alice.DeviceId), TimeSpan.FromSeconds(-1));

        await Assert.ThrowsAsync<WebSocketException>(() => NatterConnection.ConnectAsync(_server.BaseAddress, expired));
        var rest = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.GetChatsAsync(expired));
        Assert.Contains("expired", rest.ServerMessage);
    }

    [Fact]
    public async Task Someone_elses_chat_can_be_neither_written_nor_read()
    {
        var carol = await _server.RegisterAsync();
        await using var socket = await _server.ConnectAsync(carol);

        var send = await Assert.ThrowsAsync<NatterApiException>(() => socket.SendAsync(_chatId, "intrude", [6]));
        Assert.Equal(ErrorCodes.NotMember, send.Code);
        var history = await Assert.ThrowsAsync<NatterApiException>(() => socket.HistoryAsync(_chatId));
        Assert.Equal(ErrorCodes.NotMember, history.Code);
        var post = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.PostMessageAsync(carol.AccessToken, _chatId, "intrude", [6]));
        Assert.Equal((ErrorCodes.NotMember, 403), (post.Code, post.HttpStatus));
        var get = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.GetMessagesAsync(carol.AccessToken, _chatId));
        Assert.Equal((ErrorCodes.NotMember, 403), (get.Code, get.HttpStatus));
    }

    [Fact]
    public async Task A_chat_that_does_not_exist_is_not_found()
    {
        var missing = ChatId.Direct(new UserId(_alice.UserId), new UserId("15559999999")).Value;
        await using var socket = await _server.ConnectAsync(_alice);
        Assert.Equal(ErrorCodes.ChatNotFound, (await Assert.ThrowsAsync<NatterApiException>(() => socket.SendAsync(missing, "x", [1]))).Code);
        Assert.Equal(ErrorCodes.ChatNotFound, (await Assert.ThrowsAsync<NatterApiException>(() => socket.SendAsync("nonsense", "y", [1]))).Code);
        var open = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.OpenChatAsync(_alice.AccessToken, "+15559999999"));
        Assert.Equal((ErrorCodes.UnknownUser, (int)HttpStatusCode.NotFound), (open.Code, open.HttpStatus));
    }

    [Fact]
    public async Task A_wrong_verification_code_is_refused_and_attempts_are_limited()
    {
        var phone = Phones.Next();
        await _server.Api.RegisterAsync(phone);
        for (var i = 0; i < 5; i++)
            Assert.Equal("wrong_code", (await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.VerifyAsync(phone, "000000x", "p"))).Code);
        var locked = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.VerifyAsync(phone, "000000x", "p"));
        Assert.Equal(("too_many_attempts", 429), (locked.Code, locked.HttpStatus));
    }
}
