using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages;
using Natter.Messages.Protocol;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// How the C# client matches the answers of sends it has pending (protocol §5 `error`, §6): by chat and clientMsgId,
/// with the server's answers scripted frame by frame, in orders the real server produces only by timing.
/// </summary>
public sealed class ClientPendingSendSpecs : IAsyncLifetime
{
    private const string Chat = "d.15550000001.15550000002";
    private const string OtherChat = "d.15550000001.15550000003";
    private ScriptedSocketServer _server = null!;
    private NatterConnection _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ScriptedSocketServer.StartAsync();
        _client = await NatterConnection.ConnectAsync(_server.BaseAddress, "any-token");
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static string Ack(string chat, string clientMsgId, long seq) =>
        $$"""{"type":"ack","chatId":"{{chat}}","clientMsgId":"{{clientMsgId}}","seq":{{seq}},"ts":"2026-12-07T08:00:00+00:00","duplicate":false}""";

    private static string Error(string clientMsgId, string? chat) => chat is null
        ? $$"""{"type":"error","code":"not_member","message":"you are not a member of this chat","ref":"{{clientMsgId}}"}"""
        : $$"""{"type":"error","code":"not_member","message":"you are not a member of this chat","ref":"{{clientMsgId}}","chatId":"{{chat}}"}""";

    /// <summary>A message frame after the frames before it: once the client holds it, it has read them all.</summary>
    private async Task MarkerAsync(long seq)
    {
        await _server.SendAsync($$"""{"type":"message","chatId":"d.15550000001.15550000009","seq":{{seq}},"sender":"15550000009","senderDevice":1,"clientMsgId":"marker","body":"AQ==","ts":"2026-12-07T08:00:00+00:00","sealed":false}""");
        await _client.Received.WaitForCountAsync("d.15550000001.15550000009", (int)seq, TimeSpan.FromSeconds(10));
    }

    /// <summary>A send the server has read, whose caller then stops waiting (its token) before any answer.</summary>
    private async Task SendAndGiveUpAsync(string clientMsgId, byte[] body)
    {
        using var stop = new CancellationTokenSource();
        var send = _client.SendAsync(Chat, clientMsgId, body, stop.Token);
        await _server.NextFromClientAsync();
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
    }

    [Fact]
    public async Task A_refused_resend_does_not_fail_a_first_write_that_is_then_acked()
    {
        // As when the sender left a group between the send and its resend: the first write was stored.
        var first = _client.SendPipelinedAsync(Chat, "m1", [1]);
        await _server.NextFromClientAsync();
        var resend = _client.SendPipelinedAsync(Chat, "m1", [1]);
        await _server.NextFromClientAsync();

        await _server.SendAsync(Error("m1", Chat));
        await _server.SendAsync(Ack(Chat, "m1", 7));

        Assert.Equal(7, Assert.IsType<AckFrame>(await first).Seq);
        Assert.Equal(7, Assert.IsType<AckFrame>(await resend).Seq);
        Assert.Contains(_client.Received.Of(Chat), m => m.Seq == 7 && m.ClientMsgId == "m1");
    }

    [Fact]
    public async Task A_resend_after_a_write_nobody_answered_gets_its_own_error()
    {
        // The first write's node died: no answer ever comes, and its caller gave up.
        await SendAndGiveUpAsync("lost", [1]);

        var resend = _client.SendPipelinedAsync(Chat, "lost", [1]);
        await _server.NextFromClientAsync();
        await _server.SendAsync(Error("lost", Chat));
        Assert.Equal(ErrorCodes.NotMember, (await Assert.ThrowsAsync<NatterApiException>(() => resend)).Code);
    }

    [Fact]
    public async Task An_error_answers_only_the_send_in_its_chat()
    {
        var here = _client.SendPipelinedAsync(Chat, "same", [1]);
        var there = _client.SendPipelinedAsync(OtherChat, "same", [2]);
        await _server.NextFromClientAsync();
        await _server.NextFromClientAsync();

        await _server.SendAsync(Error("same", OtherChat));
        Assert.Equal(ErrorCodes.NotMember, (await Assert.ThrowsAsync<NatterApiException>(() => there)).Code);
        Assert.False(here.IsCompleted);

        await _server.SendAsync(Ack(Chat, "same", 3));
        Assert.Equal((Chat, 3L), (Assert.IsType<AckFrame>(await here).ChatId, ((AckFrame)await here).Seq));
    }

    [Fact]
    public async Task An_error_that_names_no_chat_answers_the_one_send_with_its_clientMsgId_and_no_other()
    {
        var only = _client.SendPipelinedAsync(Chat, "solo", [1]);
        await _server.NextFromClientAsync();
        await _server.SendAsync(Error("solo", chat: null));
        Assert.Equal(ErrorCodes.NotMember, (await Assert.ThrowsAsync<NatterApiException>(() => only)).Code);

        // Two sends with one clientMsgId: an error without a chat cannot say which, so it answers neither.
        var here = _client.SendPipelinedAsync(Chat, "both", [1]);
        var there = _client.SendPipelinedAsync(OtherChat, "both", [2]);
        await _server.NextFromClientAsync();
        await _server.NextFromClientAsync();
        await _server.SendAsync(Error("both", chat: null));
        await MarkerAsync(1);
        Assert.False(here.IsCompleted || there.IsCompleted);

        await _server.SendAsync(Ack(Chat, "both", 4));
        await _server.SendAsync(Ack(OtherChat, "both", 5));
        Assert.Equal(4, Assert.IsType<AckFrame>(await here).Seq);
        Assert.Equal(5, Assert.IsType<AckFrame>(await there).Seq);
    }

    [Fact]
    public async Task A_late_ack_after_the_caller_stopped_waiting_is_still_the_devices_own_message()
    {
        await SendAndGiveUpAsync("late", [9]);

        await _server.SendAsync(Ack(Chat, "late", 2));
        await MarkerAsync(1);
        Assert.Contains(_client.Received.Of(Chat), m => m.Seq == 2 && m.ClientMsgId == "late" && m.Body.SequenceEqual(new byte[] { 9 }));
    }
}
