using NSec.Cryptography;

namespace Natter.Client.Crypto;

/// <summary>
/// A device's long-term identity: an Ed25519 key that signs (its public half is the identity key users
/// compare through safety numbers) and an X25519 key for X3DH, bound to it by a signature.
/// </summary>
public sealed class IdentityKeyPair
{
    public const int SeedSize = 32;

    private readonly byte[] _signingSeed;

    private IdentityKeyPair(byte[] signingSeed, X25519KeyPair identityDhKey)
    {
        _signingSeed = signingSeed;
        using (var signing = SigningKey()) IdentityKey = signing.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        IdentityDhKey = identityDhKey;
        IdentityDhSignature = Sign(KeySignatures.IdentityDhMessage(identityDhKey.PublicKey));
    }

    /// <summary>The Ed25519 public key (32 bytes).</summary>
    public byte[] IdentityKey { get; }

    /// <summary>The X25519 identity key pair used in X3DH.</summary>
    public X25519KeyPair IdentityDhKey { get; }

    /// <summary>Ed25519 over "natter-idh-v1" || the X25519 identity public key.</summary>
    public byte[] IdentityDhSignature { get; }

    /// <summary>The public half, as published and as peers verify it.</summary>
    public DeviceIdentity PublicIdentity => new(IdentityKey, IdentityDhKey.PublicKey, IdentityDhSignature);

    public static IdentityKeyPair Generate()
    {
        using var signing = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return new IdentityKeyPair(signing.Export(KeyBlobFormat.RawPrivateKey), X25519KeyPair.Generate());
    }

    /// <summary>From a 32-byte Ed25519 seed and a 32-byte X25519 private key (stored state, or fixed keys in tests).</summary>
    public static IdentityKeyPair FromSeeds(ReadOnlySpan<byte> ed25519Seed, ReadOnlySpan<byte> x25519Private)
    {
        if (ed25519Seed.Length != SeedSize) throw new ArgumentException("An Ed25519 seed is 32 bytes.", nameof(ed25519Seed));
        return new IdentityKeyPair(ed25519Seed.ToArray(), X25519KeyPair.FromPrivate(x25519Private));
    }

    /// <summary>Ed25519 seed || X25519 private key: 64 secret bytes.</summary>
    public byte[] Export() => Bytes.Concat(_signingSeed, IdentityDhKey.PrivateKey);

    public static IdentityKeyPair Import(ReadOnlySpan<byte> exported)
    {
        if (exported.Length != 2 * SeedSize) throw new ArgumentException("An exported identity is 64 bytes.", nameof(exported));
        return FromSeeds(exported[..SeedSize], exported[SeedSize..]);
    }

    /// <summary>
    /// This key, as its account's key (the primary device's identity), endorsing another device of account
    /// <paramref name="userId"/> (docs/e2ee.md §7): what lets others seal for that device.
    /// </summary>
    public byte[] EndorseDevice(string userId, ReadOnlySpan<byte> deviceIdentityKey) => Sign(KeySignatures.DeviceMessage(userId, deviceIdentityKey));

    /// <summary>
    /// This key, as its account's key, signing the list of the account's devices' identity keys at <paramref name="version"/>
    /// (docs/e2ee.md §7.2): a device left out is no longer sealed for, whatever its endorsement.
    /// </summary>
    public byte[] SignDeviceList(string userId, long version, IReadOnlyList<byte[]> identityKeys) =>
        Sign(KeySignatures.DeviceListMessage(userId, version, identityKeys));

    internal byte[] Sign(ReadOnlySpan<byte> message)
    {
        using var signing = SigningKey();
        return SignatureAlgorithm.Ed25519.Sign(signing, message);
    }

    private Key SigningKey() => Key.Import(SignatureAlgorithm.Ed25519, _signingSeed, KeyBlobFormat.RawPrivateKey);
}
