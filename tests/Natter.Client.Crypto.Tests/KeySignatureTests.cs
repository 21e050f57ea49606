namespace Natter.Client.Crypto.Tests;

public sealed class KeySignatureTests
{
    private readonly DeviceKeys _bob = DeviceKeys.Generate(oneTimePreKeys: 2);
    private readonly IdentityKeyPair _alice = IdentityKeyPair.Generate();

    [Fact]
    public void A_published_bundle_verifies()
    {
        var bundle = _bob.ToBundle("bob", "1", _bob.OneTimePreKeys.First().Id);

        Assert.True(bundle.IsValid());
        Assert.True(KeySignatures.VerifyIdentityDh(bundle.IdentityKey, bundle.IdentityDhKey, bundle.IdentityDhSignature));
        Assert.True(KeySignatures.VerifySignedPreKey(bundle.IdentityKey, bundle.SignedPreKeyId, bundle.SignedPreKey, bundle.SignedPreKeySignature));
        Assert.True(_bob.ToBundle("bob", "1").IsValid());
    }

    [Fact]
    public void A_signed_prekey_signed_by_another_identity_is_refused()
    {
        var mallory = IdentityKeyPair.Generate();
        var forged = SignedPreKeyPair.Generate(_bob.SignedPreKey.Id, mallory);
        var bundle = _bob.ToBundle("bob", "1") with { SignedPreKey = forged.PublicKey, SignedPreKeySignature = forged.Signature };

        Assert.False(KeySignatures.VerifySignedPreKey(bundle.IdentityKey, bundle.SignedPreKeyId, bundle.SignedPreKey, bundle.SignedPreKeySignature));
        Assert.False(bundle.IsValid());
        Assert.Throws<InvalidBundleException>(() => X3dh.Initiate(_alice, bundle));
        Assert.Throws<InvalidBundleException>(() => RatchetSession.Initiate(_alice, bundle));
    }

    public static TheoryData<string> FlippedFields => new() { "signature", "signedPreKey", "signedPreKeyId", "identityKey", "identityDhKey", "identityDhSignature" };

    [Theory]
    [MemberData(nameof(FlippedFields))]
    public void A_flipped_byte_anywhere_makes_the_bundle_invalid(string field)
    {
        var bundle = _bob.ToBundle("bob", "1");
        var tampered = field switch
        {
            "signature" => bundle with { SignedPreKeySignature = Tampering.Flip(bundle.SignedPreKeySignature, 10) },
            "signedPreKey" => bundle with { SignedPreKey = Tampering.Flip(bundle.SignedPreKey, 0) },
            "signedPreKeyId" => bundle with { SignedPreKeyId = bundle.SignedPreKeyId + 1 },
            "identityKey" => bundle with { IdentityKey = Tampering.Flip(bundle.IdentityKey, 5) },
            "identityDhKey" => bundle with { IdentityDhKey = Tampering.Flip(bundle.IdentityDhKey, 31, 0x40) },
            "identityDhSignature" => bundle with { IdentityDhSignature = Tampering.Flip(bundle.IdentityDhSignature, 63) },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };

        Assert.False(tampered.IsValid());
        Assert.Throws<InvalidBundleException>(() => X3dh.Initiate(_alice, tampered));
    }

    [Fact]
    public void Wrong_lengths_and_half_one_time_prekeys_are_invalid()
    {
        var bundle = _bob.ToBundle("bob", "1", _bob.OneTimePreKeys.First().Id);

        Assert.False((bundle with { SignedPreKeySignature = bundle.SignedPreKeySignature[..63] }).IsValid());
        Assert.False((bundle with { IdentityKey = [.. bundle.IdentityKey, 0] }).IsValid());
        Assert.False((bundle with { OneTimePreKey = null }).IsValid());
        Assert.False((bundle with { OneTimePreKeyId = null }).IsValid());
        Assert.False((bundle with { OneTimePreKey = bundle.OneTimePreKey![..31] }).IsValid());
        Assert.False(KeySignatures.VerifySignedPreKey([], 1, bundle.SignedPreKey, bundle.SignedPreKeySignature));
    }

    [Fact]
    public void A_forged_identity_dh_key_is_refused()
    {
        var mallory = IdentityKeyPair.Generate();
        var bundle = _bob.ToBundle("bob", "1") with { IdentityDhKey = mallory.IdentityDhKey.PublicKey };

        Assert.False(KeySignatures.VerifyIdentityDh(bundle.IdentityKey, bundle.IdentityDhKey, bundle.IdentityDhSignature));
        Assert.Throws<InvalidBundleException>(() => X3dh.Initiate(_alice, bundle));
    }
}
