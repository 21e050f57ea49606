using System.Net.WebSockets;
using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>An account's devices: listed, removed by the primary (or by themselves), and a removed device's token dead at once.</summary>
public sealed class DeviceSpecs : IAsyncLifetime
{
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite());

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_primary_removes_a_linked_device_whose_connection_closes_and_token_stops_working_at_once()
    {
        var phone = await _server.RegisterAsync(device: "phone");
        var laptop = await _server.LinkDeviceAsync(phone, "laptop");
        var tablet = await _server.LinkDeviceAsync(phone, "tablet");

        var devices = await _server.Api.GetDevicesAsync(laptop.AccessToken);
        Assert.Equal(["phone", "laptop", "tablet"], devices.Select(d => d.Name));
        Assert.True(devices[0].Primary);
        Assert.Equal(laptop.DeviceId, devices.Single(d => d.Current).DeviceId);

        // A linked device removes neither the primary nor another linked device.
        var notPrimary = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.RemoveDeviceAsync(laptop.AccessToken, tablet.DeviceId));
        Assert.Equal((ErrorCodes.NotPrimary, (int?)403), (notPrimary.Code, notPrimary.HttpStatus));
        var primary = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.RemoveDeviceAsync(phone.AccessToken, phone.DeviceId));
        Assert.Equal(ErrorCodes.InvalidField, primary.Code);

        await using var laptopSocket = await _server.ConnectAsync(laptop);
        var left = await _server.Api.RemoveDeviceAsync(phone.AccessToken, laptop.DeviceId);
        Assert.Equal(["phone", "tablet"], left.Select(d => d.Name));

        await laptopSocket.Closed.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal((WebSocketCloseStatus)CloseCodes.DeviceRemoved, laptopSocket.CloseStatus);
        var rest = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.GetChatsAsync(laptop.AccessToken));
        Assert.Equal((ErrorCodes.Unauthorized, (int?)401), (rest.Code, rest.HttpStatus));
        await Assert.ThrowsAnyAsync<WebSocketException>(() => _server.ConnectAsync(laptop));

        // A linked device may remove itself; its id is never given out again.
        await _server.Api.RemoveDeviceAsync(tablet.AccessToken, tablet.DeviceId);
        var next = await _server.LinkDeviceAsync(phone, "new laptop");
        Assert.True(next.DeviceId > tablet.DeviceId);
    }
}
