using Natter.Actors.Notifications;
using Natter.Integration.Tests.Infrastructure;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// FCM access tokens traded for a service account's signed assertion at a real token endpoint (the stand-in checks
/// the signature and claims as Google does), on a clock the spec moves.
/// </summary>
public sealed class FcmAccessTokenSpecs : IAsyncLifetime
{
    // Started in the past so the assertions signed as the spec moves it are neither expired nor in the future for the endpoint.
    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow.AddMinutes(-44.5));
    private readonly HttpClient _http = new();
    private RecordingPushServer _push = null!;

    public async Task InitializeAsync() => _push = await RecordingPushServer.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _push.DisposeAsync();
    }

    private FcmAccessTokens Tokens() => FcmAccessTokens.From(new PushEndpoints { FcmServiceAccountFile = _push.Credentials.ServiceAccountFile }, _http, _clock)!;

    [Fact]
    public async Task A_token_serves_for_three_quarters_of_its_life_and_is_traded_again_after()
    {
        _push.Credentials.AccessTokenSeconds = 3600;
        var tokens = Tokens();
        Assert.Equal(ProviderCredentials.Project, tokens.ProjectId);

        var first = await tokens.CurrentAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(44));
        Assert.Equal(first, await tokens.CurrentAsync(CancellationToken.None));
        Assert.Equal(1, _push.Credentials.Trades);

        _clock.Advance(TimeSpan.FromMinutes(1));
        var second = await tokens.CurrentAsync(CancellationToken.None);
        Assert.NotEqual(first, second);
        Assert.Equal(2, _push.Credentials.Trades);
        Assert.True(_push.Credentials.FcmAuthorized("Bearer " + second));
    }

    [Fact]
    public async Task Pushes_waiting_together_share_one_trade_and_a_refused_token_is_traded_once_more()
    {
        var tokens = Tokens();
        var all = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => tokens.CurrentAsync(CancellationToken.None)));
        Assert.Single(all.Distinct());
        Assert.Equal(1, _push.Credentials.Trades);

        tokens.Refused(all[0]);
        tokens.Refused(all[0]);
        var next = await tokens.CurrentAsync(CancellationToken.None);
        Assert.NotEqual(all[0], next);
        // A stale refusal (of a token already replaced) trades nothing.
        tokens.Refused(all[0]);
        Assert.Equal(next, await tokens.CurrentAsync(CancellationToken.None));
        Assert.Equal(2, _push.Credentials.Trades);
    }

    [Fact]
    public async Task A_file_that_is_not_a_service_account_key_stops_the_start_naming_the_setting()
    {
        Assert.Null(FcmAccessTokens.From(new PushEndpoints(), _http, _clock));
        var folder = TempDirectory.Create("fcm-key");
        try
        {
            var notJson = Path.Combine(folder, "not.json");
            await File.WriteAllTextAsync(notJson, "-----BEGIN PRIVATE KEY-----");
            var userCredentials = Path.Combine(folder, "user.json");
            await File.WriteAllTextAsync(userCredentials, """{"type":"authorized_user","client_id":"x","refresh_token":"y"}""");
            foreach (var file in new[] { notJson, userCredentials, Path.Combine(folder, "missing.json") })
            {
                var wrong = Assert.Throws<InvalidOperationException>(() => FcmAccessTokens.From(new PushEndpoints { FcmServiceAccountFile = file }, _http, _clock));
                Assert.Contains("FcmServiceAccountFile", wrong.Message);
            }
        }
        finally
        {
            TempDirectory.Delete(folder);
        }
    }
}
