using System.Text;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>Live location over real WebSockets: positions stream to online members in order and stop at expiry or when stopped.</summary>
public sealed class LiveLocationSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(40);
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite());

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static byte[] Position(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Two_members_see_a_share_s_positions_in_order_until_it_expires()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var carol = await _server.RegisterAsync();
        await using var aliceSocket = await _server.ConnectAsync(alice);
        await using var bobSocket = await _server.ConnectAsync(bob);
        await using var carolSocket = await _server.ConnectAsync(carol);
        await Task.WhenAll(aliceSocket.SyncAsync(), bobSocket.SyncAsync(), carolSocket.SyncAsync());
        var groupId = (await aliceSocket.GroupAsync("create", name: "Hike", userIds: ["+" + bob.UserId, "+" + carol.UserId])).GroupId;
        await bobSocket.Received.WaitForCountAsync(groupId, 1, Wait);
        await carolSocket.Received.WaitForCountAsync(groupId, 1, Wait);

        var share = await aliceSocket.SendAsync(groupId, "live-1", Position("52.52,13.40"), liveLocation: new LiveLocationRequest { DurationSeconds = 12 });
        foreach (var p in new[] { "52.53,13.41", "52.54,13.42", "52.55,13.43" })
        {
            await aliceSocket.LocationAsync(groupId, share.Seq, Position(p));
            await Task.Delay(100);
        }

        // A device that comes online during the share gets the latest position with its sync.
        await using var bobLaptop = await _server.ConnectAsync(await _server.LinkDeviceAsync(bob, "laptop"));
        await bobLaptop.SyncAsync();
        Assert.Equal("52.55,13.43", Encoding.UTF8.GetString((await bobLaptop.NextAsync<LocationNoticeFrame>(l => l.ShareSeq == share.Seq, Wait)).Body));

        foreach (var member in new[] { bobSocket, carolSocket })
        {
            await member.Received.WaitForCountAsync(groupId, (int)share.Seq, Wait);
            Assert.NotNull(member.Received.Of(groupId)[^1].LiveLocation);
            var seen = new List<string>();
            for (var i = 0; i < 3; i++)
                seen.Add(Encoding.UTF8.GetString((await member.NextAsync<LocationNoticeFrame>(l => l.ShareSeq == share.Seq, Wait)).Body));
            Assert.Equal(["52.53,13.41", "52.54,13.42", "52.55,13.43"], seen);
            var stopped = await member.NextAsync<LocationStoppedFrame>(s => s.ShareSeq == share.Seq, Wait);
            Assert.Equal(("expired", alice.UserId), (stopped.Reason, stopped.UserId));
        }

        // After expiry, updates are refused and reach no one.
        await aliceSocket.LocationAsync(groupId, share.Seq, Position("late"));
        Assert.Equal(ErrorCodes.LiveLocationEnded, (await aliceSocket.NextAsync<ErrorFrame>(timeout: Wait)).Code);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bobSocket.NextAsync<LocationNoticeFrame>(timeout: TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task A_share_stopped_by_its_sharer_ends_for_everyone_and_only_the_sharer_may_update_it()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var chatId = (await _server.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId)).ChatId;
        await using var aliceSocket = await _server.ConnectAsync(alice);
        await using var bobSocket = await _server.ConnectAsync(bob);

        var share = await aliceSocket.SendAsync(chatId, "live-2", Position("0,0"), liveLocation: new LiveLocationRequest { DurationSeconds = 600 });
        await bobSocket.LocationAsync(chatId, share.Seq, Position("forged"));
        Assert.Equal(ErrorCodes.LiveLocationEnded, (await bobSocket.NextAsync<ErrorFrame>(timeout: Wait)).Code);

        await aliceSocket.StopLocationAsync(chatId, share.Seq);
        var stopped = await bobSocket.NextAsync<LocationStoppedFrame>(timeout: Wait);
        Assert.Equal("stopped", stopped.Reason);
        await aliceSocket.LocationAsync(chatId, share.Seq, Position("1,1"));
        Assert.Equal(ErrorCodes.LiveLocationEnded, (await aliceSocket.NextAsync<ErrorFrame>(timeout: Wait)).Code);
    }
}
