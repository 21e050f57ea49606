using System.Net;
using System.Net.Http.Headers;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// The per-user request limit on every authenticated REST route (protocol §10): a burst, then so many a second;
/// beyond, 429 rate_limited with Retry-After, for that user alone. Real server, a burst of 5 and one a second.
/// </summary>
public sealed class RequestLimitSpecs : IAsyncLifetime
{
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite(), overrides: new Dictionary<string, string?>
    {
        ["Natter:Edge:RequestBurst"] = "5",
        ["Natter:Edge:RequestsPerSecond"] = "1",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_user_past_the_burst_gets_429_with_retry_after_and_others_and_sockets_are_unaffected()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        for (var i = 0; i < 5; i++) await _server.Api.GetChatsAsync(alice.AccessToken);

        using var http = new HttpClient { BaseAddress = _server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/chats");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", alice.AccessToken);
        using var refused = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Contains(ErrorCodes.RateLimited, await refused.Content.ReadAsStringAsync());
        // The C# client passes the wait on.
        var again = await Assert.ThrowsAsync<Natter.Client.NatterApiException>(() => _server.Api.GetChatsAsync(alice.AccessToken));
        Assert.Equal(((int?)429, TimeSpan.FromSeconds(1)), (again.HttpStatus, again.RetryAfter));

        // Someone else's allowance is their own, and a WebSocket is not a REST request.
        await _server.Api.GetChatsAsync(bob.AccessToken);
        await using var socket = await _server.ConnectAsync(alice);
        await socket.SyncAsync();

        // The allowance refills.
        await Task.Delay(TimeSpan.FromSeconds(1.3));
        await _server.Api.GetChatsAsync(alice.AccessToken);
    }
}
