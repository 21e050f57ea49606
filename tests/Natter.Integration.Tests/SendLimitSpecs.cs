using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// The send limit at the edge (protocol §11): a WebSocket connection, and a user over REST, may send a burst of
/// messages and then so many a second; a send beyond is refused with rate_limited and stored nowhere, so its resend
/// under the same clientMsgId later is stored once. Real server, real clients, a burst of 3 and one send every 2 s.
/// </summary>
public sealed class SendLimitSpecs : IAsyncLifetime
{
    private InProcessServer _server = null!;
    private DeviceSession _alice = null!;
    private string _chat = null!;

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync(Journal.Sqlite(), overrides: new Dictionary<string, string?>
        {
            ["Natter:Edge:SendBurst"] = "3",
            ["Natter:Edge:SendsPerSecond"] = "0.5",
        });
        _alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        _chat = (await _server.Api.OpenChatAsync(_alice.AccessToken, "+" + bob.UserId)).ChatId;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_connection_sends_its_burst_then_is_refused_until_the_allowance_refills()
    {
        await using var socket = await _server.ConnectAsync(_alice);
        var sends = Enumerable.Range(1, 4).Select(i => socket.SendPipelinedAsync(_chat, $"ws-{i}", [(byte)i])).ToList();

        for (var i = 0; i < 3; i++) Assert.Equal(i + 1, Assert.IsType<AckFrame>(await sends[i]).Seq);
        // The client matches the refusal to its send by ref and chat (protocol §5) and fails that send alone.
        var refused = await Assert.ThrowsAsync<NatterApiException>(() => sends[3]);
        Assert.Equal(ErrorCodes.RateLimited, refused.Code);

        await Task.Delay(TimeSpan.FromSeconds(2.2));
        var resent = await socket.SendAsync(_chat, "ws-4", [4]);
        Assert.Equal((4L, false), (resent.Seq, resent.Duplicate));
    }

    [Fact]
    public async Task A_user_sending_over_rest_gets_429_past_the_burst()
    {
        for (var i = 1; i <= 3; i++)
            Assert.Equal(i, (await _server.Api.PostMessageAsync(_alice.AccessToken, _chat, $"rest-{i}", [1])).Seq);

        var refused = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.PostMessageAsync(_alice.AccessToken, _chat, "rest-4", [1]));
        Assert.Equal(((int?)429, ErrorCodes.RateLimited), (refused.HttpStatus, refused.Code));

        // The REST allowance is the user's own: a WebSocket connection of the same device still has its burst.
        await using var socket = await _server.ConnectAsync(_alice);
        Assert.Equal(4, (await socket.SendAsync(_chat, "rest-4", [1])).Seq);
    }
}
