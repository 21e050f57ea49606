using Natter.Client;
using Natter.Client.Crypto;
using Natter.Client.Secure;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>The key directory's documented refusals, over REST with real keys: forged signatures, unknown devices, running out of prekeys.</summary>
public sealed class KeyDirectoryBadInputSpecs : IAsyncLifetime
{
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite(), overrides: new Dictionary<string, string?>
    {
        ["Natter:Keys:BundleClaimsPerMinute"] = "8",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static PublishKeysRequest PublishOf(DeviceKeys keys, SignedPreKeyView? signedPreKey = null)
    {
        var request = keys.PublishRequest(keys.OneTimePreKeys);
        return signedPreKey is null ? request : request with { SignedPreKey = signedPreKey };
    }

    [Fact]
    public async Task A_forged_signed_prekey_or_identity_binding_is_refused_and_nothing_is_published()
    {
        var alice = await _server.RegisterAsync();
        var keys = DeviceKeys.Generate(2);
        var other = DeviceKeys.Generate(0);

        // Signed by another identity.
        var forged = new SignedPreKeyView(keys.SignedPreKey.Id, other.SignedPreKey.PublicKey, other.SignedPreKey.Signature);
        var refused = await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.PublishKeysAsync(alice.AccessToken, PublishOf(keys, forged)));
        Assert.Equal((ErrorCodes.InvalidKey, (int?)400), (refused.Code, refused.HttpStatus));
        // One flipped bit of the signature.
        var flipped = keys.SignedPreKey.Signature.ToArray();
        flipped[0] ^= 1;
        Assert.Equal(ErrorCodes.InvalidKey, (await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.PublishKeysAsync(alice.AccessToken,
            PublishOf(keys, new SignedPreKeyView(keys.SignedPreKey.Id, keys.SignedPreKey.PublicKey, flipped))))).Code);
        // An X25519 identity key the identity key did not sign.
        Assert.Equal(ErrorCodes.InvalidKey, (await Assert.ThrowsAsync<NatterApiException>(() => _server.Api.PublishKeysAsync(alice.AccessToken,
            PublishOf(keys) with { IdentityDhKey = other.Identity.IdentityDhKey.PublicKey }))).Code);

        Assert.False((await _server.Api.GetKeysStatusAsync(alice.AccessToken)).Published);
        var bob = await _server.RegisterAsync();
        Assert.Equal((ErrorCodes.KeysNotPublished, (int?)404), await CodeOf(() => _server.Api.GetBundlesAsync(bob.AccessToken, "+" + alice.UserId)));
    }

    [Fact]
    public async Task Bundles_for_unknown_users_and_devices_are_refused()
    {
        var alice = await _server.RegisterAsync();
        await SecureDevice.CreateAsync(_server.Api, alice, oneTimePreKeys: 1);
        var bob = await _server.RegisterAsync();

        Assert.Equal((ErrorCodes.UnknownDevice, (int?)404), await CodeOf(() => _server.Api.GetBundleAsync(bob.AccessToken, "+" + alice.UserId, 77)));
        Assert.Equal((ErrorCodes.UnknownUser, (int?)404), await CodeOf(() => _server.Api.GetBundlesAsync(bob.AccessToken, "+15550009999")));
        Assert.Equal((ErrorCodes.InvalidField, (int?)400), await CodeOf(() => _server.Api.GetBundlesAsync(bob.AccessToken, "not-a-phone")));
    }

    [Fact]
    public async Task Exhausted_one_time_prekeys_leave_bundles_with_the_signed_prekey_only_and_claims_are_rate_limited()
    {
        var alice = await _server.RegisterAsync();
        await using var aliceSocket = await _server.ConnectAsync(alice);
        await SecureDevice.CreateAsync(_server.Api, alice, oneTimePreKeys: 2);
        var bob = await _server.RegisterAsync();

        var first = await _server.Api.GetBundleAsync(bob.AccessToken, "+" + alice.UserId, alice.DeviceId);
        var second = await _server.Api.GetBundleAsync(bob.AccessToken, "+" + alice.UserId, alice.DeviceId);
        Assert.NotEqual(first.OneTimePreKey!.Id, second.OneTimePreKey!.Id);
        Assert.Equal(0, (await aliceSocket.NextAsync<PreKeysLowFrame>(p => p.Remaining == 0, TimeSpan.FromSeconds(20))).Remaining);
        var third = await _server.Api.GetBundleAsync(bob.AccessToken, "+" + alice.UserId, alice.DeviceId);
        Assert.Null(third.OneTimePreKey);
        Assert.Equal(first.SignedPreKey.Id, third.SignedPreKey.Id);
        Assert.Equal(0, (await _server.Api.GetKeysStatusAsync(alice.AccessToken)).OneTimePreKeysLeft);

        // 8 a minute in this server: the three above, five more, then refused.
        for (var i = 0; i < 5; i++) await _server.Api.GetBundleAsync(bob.AccessToken, "+" + alice.UserId, alice.DeviceId);
        Assert.Equal((ErrorCodes.RateLimited, (int?)429), await CodeOf(() => _server.Api.GetBundleAsync(bob.AccessToken, "+" + alice.UserId, alice.DeviceId)));
    }

    private static async Task<(string, int?)> CodeOf(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<NatterApiException>(call);
        return (e.Code, e.HttpStatus);
    }
}
