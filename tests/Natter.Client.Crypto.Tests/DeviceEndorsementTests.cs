using Natter.Client.Crypto;
using Xunit;

namespace Natter.Client.Crypto.Tests;

/// <summary>The account key's endorsement of a linked device and the link code that carries its identity key (docs/e2ee.md §7).</summary>
public sealed class DeviceEndorsementTests
{
    private readonly IdentityKeyPair _primary = IdentityKeyPair.Generate();
    private readonly IdentityKeyPair _laptop = IdentityKeyPair.Generate();

    [Fact]
    public void An_endorsement_verifies_for_that_key_and_account_only()
    {
        var signature = _primary.EndorseDevice("15550001111", _laptop.IdentityKey);

        Assert.True(KeySignatures.VerifyDevice(_primary.IdentityKey, "15550001111", _laptop.IdentityKey, signature));
        Assert.False(KeySignatures.VerifyDevice(_primary.IdentityKey, "15550002222", _laptop.IdentityKey, signature));
        Assert.False(KeySignatures.VerifyDevice(_primary.IdentityKey, "15550001111", IdentityKeyPair.Generate().IdentityKey, signature));
        Assert.False(KeySignatures.VerifyDevice(_laptop.IdentityKey, "15550001111", _laptop.IdentityKey, signature));
        Assert.False(KeySignatures.VerifyDevice(_primary.IdentityKey, "15550001111", _laptop.IdentityKey, new byte[64]));
        Assert.False(KeySignatures.VerifyDevice(_primary.IdentityKey, "15550001111", _laptop.IdentityKey[..31], signature));
        // Domain-separated: the identity key's other signatures are no endorsement.
        Assert.False(KeySignatures.VerifyDevice(_primary.IdentityKey, "15550001111", _primary.IdentityDhKey.PublicKey, _primary.IdentityDhSignature));
    }

    [Fact]
    public void A_link_code_reads_back_and_its_mac_vouches_for_one_account_key()
    {
        var code = DeviceLinkCode.For("15550001111.0123456789abcdef", "04213377", _laptop.IdentityKey);
        var text = code.ToString();
        Assert.StartsWith("natter-link-v1:15550001111.0123456789abcdef:04213377:", text);

        var scanned = DeviceLinkCode.Parse(text);
        Assert.Equal((code.LinkId, code.ApprovalCode), (scanned.LinkId, scanned.ApprovalCode));
        Assert.Equal(code.IdentityKey, scanned.IdentityKey);
        Assert.Equal(code.LinkSecret, scanned.LinkSecret);
        var mac = scanned.MacOf(_primary.IdentityKey);
        Assert.True(code.Verifies(_primary.IdentityKey, mac));
        Assert.False(code.Verifies(IdentityKeyPair.Generate().IdentityKey, mac));
        Assert.False(DeviceLinkCode.For(code.LinkId, code.ApprovalCode, _laptop.IdentityKey).Verifies(_primary.IdentityKey, mac));
    }

    [Theory]
    [InlineData("")]
    [InlineData("natter-link-v2:a:1:AAAA:AAAA")]
    [InlineData("natter-link-v1:a:1:!!!:AAAA")]
    [InlineData("natter-link-v1:a:1:AAAA:AAAA")]
    [InlineData("natter-link-v1:only:three")]
    public void A_code_that_is_not_a_link_code_is_refused(string text) =>
        Assert.Contains("link code", Assert.Throws<ArgumentException>(() => DeviceLinkCode.Parse(text)).Message);
}
