namespace Natter.Client.Crypto.Tests;

public sealed class X3dhTests
{
    private readonly DeviceKeys _alice = DeviceKeys.Generate(oneTimePreKeys: 0);
    private readonly DeviceKeys _bob = DeviceKeys.Generate(oneTimePreKeys: 3);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Both_sides_derive_the_same_key_and_associated_data(bool withOneTimePreKey)
    {
        var bundle = _bob.ToBundle("bob", "1", withOneTimePreKey ? _bob.OneTimePreKeys.First().Id : null);

        var initiator = X3dh.Initiate(_alice.Identity, bundle);
        var responder = X3dh.Respond(_bob, initiator.Setup, _alice.Identity.PublicIdentity);

        Assert.Equal(32, initiator.SharedKey.Length);
        Assert.Equal(initiator.SharedKey, responder.SharedKey);
        Assert.Equal([.. _alice.Identity.IdentityKey, .. _bob.Identity.IdentityKey], initiator.AssociatedData);
        Assert.Equal(initiator.AssociatedData, responder.AssociatedData);
        Assert.Equal(withOneTimePreKey ? bundle.OneTimePreKeyId : null, initiator.Setup.OneTimePreKeyId);
    }

    [Fact]
    public void Each_initiation_uses_a_fresh_ephemeral_key()
    {
        var bundle = _bob.ToBundle("bob", "1");

        var first = X3dh.Initiate(_alice.Identity, bundle);
        var second = X3dh.Initiate(_alice.Identity, bundle);

        Assert.NotEqual(first.Setup.BaseKey, second.Setup.BaseKey);
        Assert.NotEqual(first.SharedKey, second.SharedKey);
    }

    [Fact]
    public void A_one_time_prekey_sets_up_one_session_only()
    {
        var oneTimePreKeyId = _bob.OneTimePreKeys.First().Id;
        var bundle = _bob.ToBundle("bob", "1", oneTimePreKeyId);
        var carol = DeviceKeys.Generate(oneTimePreKeys: 0);
        // The directory should hand a one-time prekey out once; here two initiators got the same one.
        var fromAlice = Envelope.Seal(RatchetSession.Initiate(_alice.Identity, bundle), new byte[32]);
        var fromCarol = Envelope.Seal(RatchetSession.Initiate(carol.Identity, bundle), new byte[32]);

        Envelope.Open(new SessionRecord(), _bob, fromAlice, _alice.Identity.PublicIdentity);

        Assert.DoesNotContain(_bob.OneTimePreKeys, k => k.Id == oneTimePreKeyId);
        var carolsRecord = new SessionRecord();
        Assert.Throws<UnknownPreKeyException>(() => Envelope.Open(carolsRecord, _bob, fromCarol, carol.Identity.PublicIdentity));
        Assert.False(carolsRecord.HasSession);
    }

    [Fact]
    public void A_replayed_prekey_message_without_one_time_prekey_does_not_set_up_a_second_session()
    {
        var envelope = Envelope.Seal(RatchetSession.Initiate(_alice.Identity, _bob.ToBundle("bob", "1")), new byte[32]);
        Envelope.Open(new SessionRecord(), _bob, envelope, _alice.Identity.PublicIdentity);

        // Even with the session itself gone (a fresh record), the signed prekey remembers the base key.
        Assert.Throws<DuplicateMessageException>(() => Envelope.Open(new SessionRecord(), _bob, envelope, _alice.Identity.PublicIdentity));
    }

    [Fact]
    public void A_bundle_fetched_before_one_rotation_still_works_but_not_before_two()
    {
        var staleBundle = _bob.ToBundle("bob", "1");
        var envelope = Envelope.Seal(RatchetSession.Initiate(_alice.Identity, staleBundle), new byte[32]);
        var staler = Envelope.Seal(RatchetSession.Initiate(_alice.Identity, staleBundle), new byte[32]);

        _bob.RotateSignedPreKey();
        Envelope.Open(new SessionRecord(), _bob, envelope, _alice.Identity.PublicIdentity);

        _bob.RotateSignedPreKey();
        Assert.Throws<UnknownPreKeyException>(() => Envelope.Open(new SessionRecord(), _bob, staler, _alice.Identity.PublicIdentity));
    }

    [Fact]
    public void The_responder_needs_the_senders_verified_identity()
    {
        var setup = X3dh.Initiate(_alice.Identity, _bob.ToBundle("bob", "1")).Setup;
        var mallory = IdentityKeyPair.Generate();
        var aliceWithForgedDhKey = _alice.Identity.PublicIdentity with { IdentityDhKey = mallory.IdentityDhKey.PublicKey };

        Assert.Throws<UntrustedIdentityException>(() => X3dh.Respond(_bob, setup, null));
        Assert.Throws<UntrustedIdentityException>(() => X3dh.Respond(_bob, setup, mallory.PublicIdentity));
        Assert.Throws<UntrustedIdentityException>(() => X3dh.Respond(_bob, setup, aliceWithForgedDhKey));
        // Someone claiming Alice's Ed25519 key with their own X25519 key: the binding signature is what stops them.
        var impostor = setup with { IdentityDhKey = mallory.IdentityDhKey.PublicKey };
        Assert.Throws<UntrustedIdentityException>(() => X3dh.Respond(_bob, impostor, _alice.Identity.PublicIdentity));
    }
}
