using System.Text;

namespace Natter.Client.Crypto.Tests;

public sealed class PersistenceTests
{
    [Fact]
    public void Device_keys_round_trip()
    {
        var keys = DeviceKeys.Generate(oneTimePreKeys: 3, firstId: 100);
        keys.RotateSignedPreKey();
        keys.NewOneTimePreKeys(2);

        var restored = DeviceKeys.Import(keys.Export());

        Assert.Equal(keys.Export(), restored.Export());
        Assert.Equal(keys.ToBundle("u", "d", 104), restored.ToBundle("u", "d", 104), BundleComparer.Instance);
        Assert.Equal(keys.PreviousSignedPreKey!.PublicKey, restored.PreviousSignedPreKey!.PublicKey);
        Assert.Equal([100u, 101, 102, 103, 104], restored.OneTimePreKeys.Select(k => k.Id));
        Assert.Equal(105u, restored.NewOneTimePreKeys(1)[0].Id);
    }

    [Fact]
    public void An_identity_round_trips_through_its_seeds()
    {
        var identity = IdentityKeyPair.Generate();

        var restored = IdentityKeyPair.Import(identity.Export());

        Assert.Equal(identity.IdentityKey, restored.IdentityKey);
        Assert.Equal(identity.IdentityDhKey.PublicKey, restored.IdentityDhKey.PublicKey);
        Assert.Equal(identity.IdentityDhSignature, restored.IdentityDhSignature);
    }

    [Fact]
    public void Devices_restored_mid_conversation_carry_on_including_messages_in_flight()
    {
        var alice = new E2eeDevice(new DeviceAddress("alice", "1"), DeviceKeys.Generate(oneTimePreKeys: 2));
        var bob = new E2eeDevice(new DeviceAddress("bob", "1"), DeviceKeys.Generate(oneTimePreKeys: 2));
        var bobBundle = bob.Keys.ToBundle("bob", "1", bob.Keys.OneTimePreKeys.First().Id);
        var first = alice.Seal("c", "one"u8.ToArray(), [], [bobBundle]);
        Assert.Equal("one", Open(bob, first, alice));
        Assert.Equal("two", Open(alice, bob.Seal("c", "two"u8.ToArray(), [alice.Address]), bob));
        var inFlight = alice.Seal("c", "three"u8.ToArray(), [bob.Address]);
        var overtaking = alice.Seal("c", "four"u8.ToArray(), [bob.Address]);
        Assert.Equal("four", Open(bob, overtaking, alice));

        var restoredAlice = E2eeDevice.Import(alice.Export());
        var restoredBob = E2eeDevice.Import(bob.Export());

        Assert.Equal(alice.Export(), restoredAlice.Export());
        Assert.True(restoredBob.HasSession(alice.Address));
        Assert.Equal("three", Open(restoredBob, inFlight, restoredAlice));
        Assert.Throws<DuplicateMessageException>(() => Open(restoredBob, overtaking, restoredAlice));
        Assert.Equal("five", Open(restoredAlice, restoredBob.Seal("c", "five"u8.ToArray(), [alice.Address]), restoredBob));
        Assert.Equal("six", Open(restoredBob, restoredAlice.Seal("c", "six"u8.ToArray(), [bob.Address]), restoredAlice));
    }

    [Fact]
    public void A_session_round_trips_byte_for_byte()
    {
        var chat = new Conversation();
        chat.BobOpens(chat.AliceSends("a"));
        chat.AliceSends("skipped");
        chat.BobOpens(chat.AliceSends("b"));

        var session = chat.Bob.Current!;
        var restored = RatchetSession.Import(session.Export());

        Assert.Equal(session.Export(), restored.Export());
        Assert.Equal(1, restored.State.Skipped.Count);
        Assert.Equal(chat.Bob.Export(), SessionRecord.Import(chat.Bob.Export()).Export());
    }

    [Fact]
    public void A_truncated_or_foreign_state_is_refused()
    {
        var state = DeviceKeys.Generate(oneTimePreKeys: 1).Export();

        Assert.Throws<InvalidDataException>(() => DeviceKeys.Import(state[..^1]));
        Assert.Throws<InvalidDataException>(() => DeviceKeys.Import([.. state, 0]));
        Assert.Throws<InvalidDataException>(() => RatchetSession.Import(state));
        Assert.Throws<InvalidDataException>(() => E2eeDevice.Import([]));
    }

    private static string Open(E2eeDevice recipient, SealedMessage message, E2eeDevice sender) =>
        Encoding.UTF8.GetString(recipient.Open("c", message.Body, message.Envelopes[recipient.Address],
            sender.Address.UserId, sender.Address.DeviceId, sender.Keys.Identity.PublicIdentity));

    /// <summary>Records compare byte arrays by reference; bundles are equal when their bytes are.</summary>
    private sealed class BundleComparer : IEqualityComparer<DevicePreKeyBundle>
    {
        public static readonly BundleComparer Instance = new();

        public bool Equals(DevicePreKeyBundle? a, DevicePreKeyBundle? b) =>
            a is not null && b is not null && a.UserId == b.UserId && a.DeviceId == b.DeviceId
            && a.IdentityKey.SequenceEqual(b.IdentityKey) && a.IdentityDhKey.SequenceEqual(b.IdentityDhKey)
            && a.IdentityDhSignature.SequenceEqual(b.IdentityDhSignature) && a.SignedPreKeyId == b.SignedPreKeyId
            && a.SignedPreKey.SequenceEqual(b.SignedPreKey) && a.SignedPreKeySignature.SequenceEqual(b.SignedPreKeySignature)
            && a.OneTimePreKeyId == b.OneTimePreKeyId && (a.OneTimePreKey ?? []).SequenceEqual(b.OneTimePreKey ?? []);

        public int GetHashCode(DevicePreKeyBundle bundle) => bundle.SignedPreKeyId.GetHashCode();
    }
}
