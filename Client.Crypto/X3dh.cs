namespace Natter.Client.Crypto;

/// <summary>
/// Extended Triple Diffie-Hellman session setup (https://signal.org/docs/specifications/x3dh/) with Natter's
/// labels. SK = HKDF(0xFF×32 || DH1 || DH2 || DH3 [|| DH4], salt = 0×32, info = "natter-x3dh-v1", 32).
/// </summary>
public static class X3dh
{
    private const string Info = "natter-x3dh-v1";
    private static readonly byte[] Padding = Enumerable.Repeat((byte)0xFF, 32).ToArray();

    /// <summary>Initiator: refuses a bundle whose signatures do not verify.</summary>
    public static X3dhResult Initiate(IdentityKeyPair own, DevicePreKeyBundle bundle) => Initiate(own, bundle, X25519KeyPair.Generate);

    internal static X3dhResult Initiate(IdentityKeyPair own, DevicePreKeyBundle bundle, Func<X25519KeyPair> newKeyPair)
    {
        if (!bundle.IsValid()) throw new InvalidBundleException($"The prekey bundle of {bundle.Address} does not verify.");
        var ephemeral = newKeyPair();
        byte[] Agree(X25519KeyPair ownKey, byte[] remoteKey) =>
            Dh.Agree(ownKey, remoteKey) ?? throw new InvalidBundleException($"The prekey bundle of {bundle.Address} holds an unusable key.");

        var dh1 = Agree(own.IdentityDhKey, bundle.SignedPreKey);
        var dh2 = Agree(ephemeral, bundle.IdentityDhKey);
        var dh3 = Agree(ephemeral, bundle.SignedPreKey);
        var dh4 = bundle.OneTimePreKey is { } oneTimePreKey ? Agree(ephemeral, oneTimePreKey) : null;
        var setup = new PreKeySetup(own.IdentityKey, own.IdentityDhKey.PublicKey, ephemeral.PublicKey, bundle.SignedPreKeyId, bundle.OneTimePreKeyId);
        return new X3dhResult(SharedKey(dh1, dh2, dh3, dh4), AssociatedData(own.IdentityKey, bundle.IdentityKey), setup);
    }

    /// <summary>
    /// Responder: the same SK from a prekey message's setup. The sender's identity keys must match
    /// <paramref name="sender"/>, whose signature is checked: the message carries the keys but not the signature
    /// binding them. Nothing is deleted here; the caller marks the prekeys used once the first message decrypts.
    /// </summary>
    public static X3dhResult Respond(DeviceKeys own, PreKeySetup setup, DeviceIdentity? sender)
    {
        if (sender is null || !sender.IsValid() || !sender.Matches(setup.IdentityKey, setup.IdentityDhKey))
            throw new UntrustedIdentityException(null, "The prekey message's identity keys are not the sender's verified identity.");
        var signedPreKey = own.FindSignedPreKey(setup.SignedPreKeyId)
            ?? throw new UnknownPreKeyException($"No signed prekey {setup.SignedPreKeyId}.");
        if (own.WasUsed(setup.SignedPreKeyId, setup.BaseKey)) throw new DuplicateMessageException("This session was already set up.");
        var oneTimePreKey = setup.OneTimePreKeyId is { } id
            ? own.FindOneTimePreKey(id) ?? throw new UnknownPreKeyException($"No one-time prekey {id}: used already, or never issued.")
            : null;
        byte[] Agree(X25519KeyPair ownKey, byte[] remoteKey) =>
            Dh.Agree(ownKey, remoteKey) ?? throw new InvalidMessageException("The prekey message holds an unusable key.");

        var dh1 = Agree(signedPreKey.KeyPair, setup.IdentityDhKey);
        var dh2 = Agree(own.Identity.IdentityDhKey, setup.BaseKey);
        var dh3 = Agree(signedPreKey.KeyPair, setup.BaseKey);
        var dh4 = oneTimePreKey is not null ? Agree(oneTimePreKey.KeyPair, setup.BaseKey) : null;
        return new X3dhResult(SharedKey(dh1, dh2, dh3, dh4), AssociatedData(setup.IdentityKey, own.Identity.IdentityKey), setup);
    }

    /// <summary>AD = initiator's Ed25519 identity key || responder's (64 bytes).</summary>
    public static byte[] AssociatedData(byte[] initiatorIdentityKey, byte[] responderIdentityKey) =>
        Bytes.Concat(initiatorIdentityKey, responderIdentityKey);

    private static byte[] SharedKey(byte[] dh1, byte[] dh2, byte[] dh3, byte[]? dh4)
    {
        var inputKeyMaterial = dh4 is null ? Bytes.Concat(Padding, dh1, dh2, dh3) : Bytes.Concat(Padding, dh1, dh2, dh3, dh4);
        return Hkdf.DeriveBytes(inputKeyMaterial, Bytes.Zeros(32), Info, 32);
    }
}
