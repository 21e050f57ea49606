using System.Buffers.Binary;
using NSec.Cryptography;

namespace Natter.Client.Crypto;

/// <summary>
/// The Ed25519 signatures that bind a device's X25519 keys to its identity key, a linked device's identity key
/// to its account (the endorsement, docs/e2ee.md §7.1), and the account's devices to one list (§7.2). The server runs these very checks to refuse forged keys at
/// upload, so this file depends on NSec only.
/// </summary>
public static class KeySignatures
{
    public const int PublicKeySize = 32;
    public const int SignatureSize = 64;

    private static readonly byte[] IdentityDhLabel = "natter-idh-v1"u8.ToArray();
    private static readonly byte[] SignedPreKeyLabel = "natter-spk-v1"u8.ToArray();
    private static readonly byte[] DeviceLabel = "natter-device-v1"u8.ToArray();
    private static readonly byte[] DeviceListLabel = "natter-devices-v1"u8.ToArray();

    /// <summary>The most identity keys a signed device list holds (its count is one byte).</summary>
    public const int MaxListedDevices = 255;

    /// <summary>Checks Ed25519(identityKey) over "natter-idh-v1" || identityDhPublic.</summary>
    public static bool VerifyIdentityDh(ReadOnlySpan<byte> identityKey, ReadOnlySpan<byte> identityDhPublic, ReadOnlySpan<byte> signature) =>
        identityDhPublic.Length == PublicKeySize && Verify(identityKey, IdentityDhMessage(identityDhPublic), signature);

    /// <summary>Checks Ed25519(identityKey) over "natter-spk-v1" || u32(id) || signedPreKeyPublic.</summary>
    public static bool VerifySignedPreKey(ReadOnlySpan<byte> identityKey, uint id, ReadOnlySpan<byte> signedPreKeyPublic, ReadOnlySpan<byte> signature) =>
        signedPreKeyPublic.Length == PublicKeySize && Verify(identityKey, SignedPreKeyMessage(id, signedPreKeyPublic), signature);

    /// <summary>Checks the account key's Ed25519 signature over "natter-device-v1" || deviceIdentityKey || UTF-8(userId).</summary>
    public static bool VerifyDevice(ReadOnlySpan<byte> accountKey, string userId, ReadOnlySpan<byte> deviceIdentityKey, ReadOnlySpan<byte> signature) =>
        deviceIdentityKey.Length == PublicKeySize && Verify(accountKey, DeviceMessage(userId, deviceIdentityKey), signature);

    /// <summary>
    /// Checks the account key's Ed25519 signature over "natter-devices-v1" || u64(version) || u8(count) || the identity keys
    /// in their order || UTF-8(userId).
    /// </summary>
    public static bool VerifyDeviceList(ReadOnlySpan<byte> accountKey, string userId, long version, IReadOnlyList<byte[]> identityKeys,
        ReadOnlySpan<byte> signature) =>
        version >= 0 && identityKeys.Count <= MaxListedDevices && identityKeys.All(k => k?.Length == PublicKeySize)
        && Verify(accountKey, DeviceListMessage(userId, version, identityKeys), signature);

    internal static byte[] DeviceListMessage(string userId, long version, IReadOnlyList<byte[]> identityKeys)
    {
        if (identityKeys.Count > MaxListedDevices) throw new ArgumentException($"A device list holds at most {MaxListedDevices} keys.", nameof(identityKeys));
        var user = System.Text.Encoding.UTF8.GetBytes(userId);
        var message = new byte[DeviceListLabel.Length + 8 + 1 + identityKeys.Count * PublicKeySize + user.Length];
        var at = DeviceListLabel.Length;
        DeviceListLabel.CopyTo(message, 0);
        BinaryPrimitives.WriteInt64BigEndian(message.AsSpan(at), version);
        message[at + 8] = (byte)identityKeys.Count;
        at += 9;
        foreach (var key in identityKeys)
        {
            if (key.Length != PublicKeySize) throw new ArgumentException("Identity keys are 32 bytes.", nameof(identityKeys));
            key.CopyTo(message, at);
            at += PublicKeySize;
        }
        user.CopyTo(message, at);
        return message;
    }

    internal static byte[] DeviceMessage(string userId, ReadOnlySpan<byte> deviceIdentityKey)
    {
        var user = System.Text.Encoding.UTF8.GetBytes(userId);
        var message = new byte[DeviceLabel.Length + deviceIdentityKey.Length + user.Length];
        DeviceLabel.CopyTo(message, 0);
        deviceIdentityKey.CopyTo(message.AsSpan(DeviceLabel.Length));
        user.CopyTo(message, DeviceLabel.Length + deviceIdentityKey.Length);
        return message;
    }

    internal static byte[] IdentityDhMessage(ReadOnlySpan<byte> identityDhPublic)
    {
        var message = new byte[IdentityDhLabel.Length + identityDhPublic.Length];
        IdentityDhLabel.CopyTo(message, 0);
        identityDhPublic.CopyTo(message.AsSpan(IdentityDhLabel.Length));
        return message;
    }

    internal static byte[] SignedPreKeyMessage(uint id, ReadOnlySpan<byte> signedPreKeyPublic)
    {
        var message = new byte[SignedPreKeyLabel.Length + 4 + signedPreKeyPublic.Length];
        SignedPreKeyLabel.CopyTo(message, 0);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(SignedPreKeyLabel.Length), id);
        signedPreKeyPublic.CopyTo(message.AsSpan(SignedPreKeyLabel.Length + 4));
        return message;
    }

    private static bool Verify(ReadOnlySpan<byte> identityKey, byte[] message, ReadOnlySpan<byte> signature)
    {
        if (identityKey.Length != PublicKeySize || signature.Length != SignatureSize) return false;
        return PublicKey.TryImport(SignatureAlgorithm.Ed25519, identityKey, KeyBlobFormat.RawPublicKey, out var publicKey)
            && publicKey is not null
            && SignatureAlgorithm.Ed25519.Verify(publicKey, message, signature);
    }
}
