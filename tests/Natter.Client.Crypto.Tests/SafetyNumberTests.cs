namespace Natter.Client.Crypto.Tests;

public sealed class SafetyNumberTests
{
    private readonly byte[] _aliceKey = IdentityKeyPair.Generate().IdentityKey;
    private readonly byte[] _bobKey = IdentityKeyPair.Generate().IdentityKey;

    [Fact]
    public void Both_sides_see_the_same_sixty_digits()
    {
        var seenByAlice = SafetyNumber.Compute("+15550001111", _aliceKey, "+15550002222", _bobKey);
        var seenByBob = SafetyNumber.Compute("+15550002222", _bobKey, "+15550001111", _aliceKey);

        Assert.Equal(seenByAlice, seenByBob);
        Assert.Equal(60, seenByAlice.Length);
        Assert.All(seenByAlice, c => Assert.InRange(c, '0', '9'));
        Assert.StartsWith(SafetyNumber.Fingerprint("+15550001111", _aliceKey), seenByAlice);
    }

    [Fact]
    public void A_changed_identity_key_changes_the_number()
    {
        var before = SafetyNumber.Compute("alice", _aliceKey, "bob", _bobKey);
        var reinstalled = IdentityKeyPair.Generate().IdentityKey;

        var after = SafetyNumber.Compute("alice", _aliceKey, "bob", reinstalled);

        Assert.NotEqual(before, after);
        Assert.Equal(before[..30], after[..30]);
        Assert.NotEqual(SafetyNumber.Fingerprint("bob", _bobKey), SafetyNumber.Fingerprint("bob", reinstalled));
    }

    [Fact]
    public void The_user_id_is_part_of_the_fingerprint()
    {
        Assert.NotEqual(SafetyNumber.Fingerprint("alice", _aliceKey), SafetyNumber.Fingerprint("mallory", _aliceKey));
    }
}
