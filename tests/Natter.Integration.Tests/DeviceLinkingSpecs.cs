using System.Net.WebSockets;
using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// Linking a device with an existing device's approval, the limit of five devices, and verifying the
/// phone number again (a new primary; every earlier device logged out).
/// </summary>
public sealed class DeviceLinkingSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite());

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_device_joins_only_once_an_existing_device_approves_it_with_the_code_it_shows()
    {
        var phone = await _server.RegisterAsync();
        await using var phoneSocket = await _server.ConnectAsync(phone);

        var link = await _server.Api.RequestLinkAsync("+" + phone.UserId, "laptop");
        var asked = await phoneSocket.NextAsync<LinkRequestFrame>(timeout: Wait);
        Assert.Equal((link.LinkId, "laptop"), (asked.LinkId, asked.DeviceName));
        Assert.Equal(link.LinkId, Assert.Single(await _server.Api.GetPendingLinksAsync(phone.AccessToken)).LinkId);

        var early = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.CompleteLinkAsync(link.LinkId, link.DeviceSecret));
        Assert.Equal((ErrorCodes.LinkPending, (int?)409), (early.Code, early.HttpStatus));
        var wrongCode = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.ApproveLinkAsync(phone.AccessToken, link.LinkId, "00000000"));
        Assert.Equal((ErrorCodes.InvalidLink, (int?)404), (wrongCode.Code, wrongCode.HttpStatus));

        // Another account's device cannot approve it: the link belongs to this account.
        var stranger = await _server.RegisterAsync();
        var foreign = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.ApproveLinkAsync(stranger.AccessToken, link.LinkId, link.ApprovalCode));
        Assert.Equal(ErrorCodes.InvalidLink, foreign.Code);

        var devices = await _server.Api.ApproveLinkAsync(phone.AccessToken, link.LinkId, link.ApprovalCode);
        Assert.Equal(["phone", "laptop"], devices.Select(d => d.Name));
        var wrongSecret = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.CompleteLinkAsync(link.LinkId, "not-the-secret"));
        Assert.Equal(ErrorCodes.InvalidLink, wrongSecret.Code);

        var laptop = await _server.Api.CompleteLinkAsync(link.LinkId, link.DeviceSecret);
        Assert.Equal((phone.UserId, devices[1].DeviceId, false), (laptop.UserId, laptop.DeviceId, laptop.NewAccount));
        await using var laptopSocket = await _server.ConnectAsync(laptop);
        Assert.Equal(laptop.DeviceId, laptopSocket.Welcome.DeviceId);
        // Collected once: the secret does not mint a second session.
        Assert.Equal(ErrorCodes.InvalidLink,
            (await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.CompleteLinkAsync(link.LinkId, link.DeviceSecret))).Code);
        Assert.Empty(await _server.Api.GetPendingLinksAsync(phone.AccessToken));
    }

    [Fact]
    public async Task An_account_has_at_most_five_devices()
    {
        var phone = await _server.RegisterAsync();
        for (var i = 1; i <= 4; i++) await _server.LinkDeviceAsync(phone, $"device {i}");

        var full = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.RequestLinkAsync("+" + phone.UserId, "sixth"));
        Assert.Equal((ErrorCodes.TooManyDevices, (int?)409), (full.Code, full.HttpStatus));
        var unknown = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.RequestLinkAsync("+15550000000", "nobody's"));
        Assert.Equal(ErrorCodes.UnknownUser, unknown.Code);
    }

    [Fact]
    public async Task Verifying_the_phone_number_again_makes_a_new_primary_and_logs_every_earlier_device_out()
    {
        var phone = await _server.RegisterAsync();
        var laptop = await _server.LinkDeviceAsync(phone, "laptop");
        await using var phoneSocket = await _server.ConnectAsync(phone);
        await using var laptopSocket = await _server.ConnectAsync(laptop);

        var newPhone = await _server.RegisterAsync("+" + phone.UserId, "new phone");

        foreach (var old in new[] { phoneSocket, laptopSocket })
        {
            await old.Closed.WaitAsync(Wait);
            Assert.Equal((WebSocketCloseStatus)CloseCodes.DeviceRemoved, old.CloseStatus);
        }
        var devices = await _server.Api.GetDevicesAsync(newPhone.AccessToken);
        Assert.Equal(("new phone", true), (Assert.Single(devices).Name, devices[0].Primary));
        Assert.Equal(ErrorCodes.Unauthorized, (await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.GetChatsAsync(laptop.AccessToken))).Code);
    }

    [Fact]
    public async Task Only_the_primary_approves_a_fourth_request_replaces_the_oldest_and_asking_is_rate_limited_per_number()
    {
        var phone = await _server.RegisterAsync();
        var laptop = await _server.LinkDeviceAsync(phone, "laptop");
        var links = new List<LinkRequest>();
        for (var i = 0; i < 4; i++) links.Add(await _server.Api.RequestLinkAsync("+" + phone.UserId, $"asker {i}"));

        // Strangers cannot block linking: the oldest request made room for the newest.
        Assert.Equal(links.Skip(1).Select(l => l.LinkId).Order(), (await _server.Api.GetPendingLinksAsync(phone.AccessToken)).Select(l => l.LinkId).Order());
        var notPrimary = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.ApproveLinkAsync(laptop.AccessToken, links[3].LinkId, links[3].ApprovalCode));
        Assert.Equal((ErrorCodes.NotPrimary, (int?)403), (notPrimary.Code, notPrimary.HttpStatus));

        // Register, verify and link requests for one number: 20 an hour (7 so far), then 429.
        for (var i = 0; i < 13; i++) await _server.Api.RegisterAsync("+" + phone.UserId);
        var limited = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.RegisterAsync("+" + phone.UserId));
        Assert.Equal((ErrorCodes.RateLimited, (int?)429), (limited.Code, limited.HttpStatus));
        Assert.Equal(ErrorCodes.RateLimited, (await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.RequestLinkAsync("+" + phone.UserId, "more"))).Code);
    }
}
