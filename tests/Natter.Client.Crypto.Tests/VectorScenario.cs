using System.Text;

namespace Natter.Client.Crypto.Tests;

/// <summary>
/// The test-vector scenario, every key fixed: Alice (device 1 of +15550001111) starts a session with Bob's
/// device 1 (+15550002222) from his bundle with one-time prekey 7, seals a content key for him, Bob opens it
/// and seals another content key back. Each output is named as in docs/e2ee-test-vectors.md.
/// </summary>
internal static class VectorScenario
{
    public const string AliceUser = "+15550001111";
    public const string BobUser = "+15550002222";
    public const string ChatId = "chat-0001";
    public const string BodyText = "Hello, Bob!";
    public const uint SignedPreKeyId = 1;
    public const uint OneTimePreKeyId = 7;

    public static readonly byte[] AliceSigningSeed = Hex.Repeat(0xA1);
    public static readonly byte[] AliceIdentityDhPrivate = Hex.Repeat(0xA2);
    public static readonly byte[] AliceEphemeralPrivate = Hex.Repeat(0xA3);
    public static readonly byte[] AliceRatchetPrivate = Hex.Repeat(0xA4);
    public static readonly byte[] AliceNextRatchetPrivate = Hex.Repeat(0xA5);
    public static readonly byte[] BobSigningSeed = Hex.Repeat(0xB1);
    public static readonly byte[] BobIdentityDhPrivate = Hex.Repeat(0xB2);
    public static readonly byte[] BobSignedPreKeyPrivate = Hex.Repeat(0xB3);
    public static readonly byte[] BobOneTimePreKeyPrivate = Hex.Repeat(0xB4);
    public static readonly byte[] BobRatchetPrivate = Hex.Repeat(0xB5);
    public static readonly byte[] AliceLaptopSigningSeed = Hex.Repeat(0xC1);
    public static readonly byte[] AliceLaptopIdentityDhPrivate = Hex.Repeat(0xC2);
    public static readonly byte[] LinkSecret = Hex.Counting(0x40)[..16];
    public const string AliceAccount = "15550001111";
    public const string LinkId = "15550001111.0123456789abcdef";
    public const string ApprovalCode = "04213377";
    public static readonly byte[] ContentKey = Hex.Counting(0x00);
    public static readonly byte[] ReplyContentKey = Hex.Counting(0x20);

    public static IdentityKeyPair AliceIdentity() => IdentityKeyPair.FromSeeds(AliceSigningSeed, AliceIdentityDhPrivate);

    public static DeviceKeys BobKeys()
    {
        var identity = IdentityKeyPair.FromSeeds(BobSigningSeed, BobIdentityDhPrivate);
        return DeviceKeys.FromKeys(identity, SignedPreKeyPair.FromPrivate(SignedPreKeyId, BobSignedPreKeyPrivate, identity),
            [OneTimePreKeyPair.FromPrivate(OneTimePreKeyId, BobOneTimePreKeyPrivate)]);
    }

    /// <summary>Runs the scenario and returns its outputs in order, as lowercase hex (digits for the safety number).</summary>
    public static IReadOnlyList<(string Name, string Value)> Run()
    {
        var alice = AliceIdentity();
        var bob = BobKeys();
        var bundle = bob.ToBundle(BobUser, "1", OneTimePreKeyId);
        var outputs = new List<(string, string)>
        {
            ("alice.identityKey", Hex.Of(alice.IdentityKey)),
            ("alice.identityDhKey", Hex.Of(alice.IdentityDhKey.PublicKey)),
            ("alice.identityDhSignature", Hex.Of(alice.IdentityDhSignature)),
            ("alice.ephemeralKey", Hex.Of(X25519KeyPair.FromPrivate(AliceEphemeralPrivate).PublicKey)),
            ("alice.ratchetKey", Hex.Of(X25519KeyPair.FromPrivate(AliceRatchetPrivate).PublicKey)),
            ("bob.identityKey", Hex.Of(bundle.IdentityKey)),
            ("bob.identityDhKey", Hex.Of(bundle.IdentityDhKey)),
            ("bob.identityDhSignature", Hex.Of(bundle.IdentityDhSignature)),
            ("bob.signedPreKey", Hex.Of(bundle.SignedPreKey)),
            ("bob.signedPreKeySignature", Hex.Of(bundle.SignedPreKeySignature)),
            ("bob.oneTimePreKey", Hex.Of(bundle.OneTimePreKey!)),
        };

        var x3dh = X3dh.Initiate(alice, bundle, new FixedKeyPairs(AliceEphemeralPrivate).Next);
        var x3dhWithoutOneTimePreKey = X3dh.Initiate(alice, bundle with { OneTimePreKeyId = null, OneTimePreKey = null },
            new FixedKeyPairs(AliceEphemeralPrivate).Next);
        outputs.Add(("x3dh.sharedKey", Hex.Of(x3dh.SharedKey)));
        outputs.Add(("x3dh.sharedKeyWithoutOneTimePreKey", Hex.Of(x3dhWithoutOneTimePreKey.SharedKey)));
        outputs.Add(("x3dh.associatedData", Hex.Of(x3dh.AssociatedData)));

        var aliceSession = RatchetSession.Initiate(alice, bundle, new FixedKeyPairs(AliceEphemeralPrivate, AliceRatchetPrivate, AliceNextRatchetPrivate).Next);
        outputs.Add(("alice.rootKey1", Hex.Of(aliceSession.State.RootKey)));
        outputs.Add(("alice.sendingChainKey1", Hex.Of(aliceSession.State.SendingChainKey!)));
        var (messageKey, nextChainKey) = RatchetKdf.Chain(aliceSession.State.SendingChainKey!);
        var (aeadKey, nonce) = RatchetKdf.MessageKeys(messageKey);
        outputs.Add(("message0.messageKey", Hex.Of(messageKey)));
        outputs.Add(("message0.nextChainKey", Hex.Of(nextChainKey)));
        outputs.Add(("message0.aeadKey", Hex.Of(aeadKey)));
        outputs.Add(("message0.nonce", Hex.Of(nonce)));
        var envelope = Envelope.Seal(aliceSession, ContentKey);
        outputs.Add(("message0.envelope", Hex.Of(envelope)));
        outputs.Add(("body", Hex.Of(MessageBody.Encrypt(ChatId, Encoding.UTF8.GetBytes(BodyText), ContentKey))));

        var bobRecord = new SessionRecord();
        var opened = Envelope.Prepare(bobRecord, bob, envelope, alice.PublicIdentity, new FixedKeyPairs(BobRatchetPrivate).Next);
        opened.Commit();
        if (!opened.Plaintext.SequenceEqual(ContentKey)) throw new InvalidOperationException("Bob did not get the content key.");
        var bobSession = bobRecord.Current!;
        outputs.Add(("bob.ratchetKey", Hex.Of(bobSession.State.SendingRatchetKey.PublicKey)));
        outputs.Add(("bob.rootKey2", Hex.Of(bobSession.State.RootKey)));
        outputs.Add(("bob.sendingChainKey2", Hex.Of(bobSession.State.SendingChainKey!)));
        var reply = Envelope.Seal(bobSession, ReplyContentKey);
        outputs.Add(("reply0.envelope", Hex.Of(reply)));
        var aliceRecord = new SessionRecord();
        aliceRecord.Promote(null, aliceSession);
        var aliceKeys = DeviceKeys.FromKeys(alice, SignedPreKeyPair.Generate(1, alice));
        if (!Envelope.Open(aliceRecord, aliceKeys, reply, null).SequenceEqual(ReplyContentKey))
            throw new InvalidOperationException("Alice did not get the reply's content key.");

        outputs.Add(("safetyNumber", SafetyNumber.Compute(AliceUser, alice.IdentityKey, BobUser, bundle.IdentityKey)));

        // Alice's phone (the primary: its identity key is the account key) endorses her laptop from its link code.
        var laptop = IdentityKeyPair.FromSeeds(AliceLaptopSigningSeed, AliceLaptopIdentityDhPrivate);
        var code = new DeviceLinkCode(LinkId, ApprovalCode, laptop.IdentityKey, LinkSecret);
        outputs.Add(("laptop.identityKey", Hex.Of(laptop.IdentityKey)));
        outputs.Add(("link.code", code.ToString()));
        outputs.Add(("link.accountSignature", Hex.Of(alice.EndorseDevice(AliceAccount, laptop.IdentityKey))));
        outputs.Add(("link.mac", Hex.Of(code.MacOf(alice.IdentityKey))));
        // And signs the account's device list with the laptop in it, at version 2.
        outputs.Add(("deviceList.signature", Hex.Of(alice.SignDeviceList(AliceAccount, 2, [alice.IdentityKey, laptop.IdentityKey]))));
        return outputs;
    }
}
