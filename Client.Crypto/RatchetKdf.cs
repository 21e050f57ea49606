using NSec.Cryptography;

namespace Natter.Client.Crypto;

/// <summary>The Double Ratchet's three key derivations, with Natter's labels.</summary>
internal static class RatchetKdf
{
    private const string RootInfo = "natter-ratchet-v1";
    private const string MessageInfo = "natter-message-v1";
    private static readonly byte[] MessageKeyInput = [0x01];
    private static readonly byte[] ChainKeyInput = [0x02];

    /// <summary>KDF_RK: HKDF(ikm = DH output, salt = root key, 64) → new root key || chain key.</summary>
    public static (byte[] RootKey, byte[] ChainKey) Root(byte[] rootKey, byte[] dhOutput)
    {
        var output = Hkdf.DeriveBytes(dhOutput, rootKey, RootInfo, 64);
        return (output[..32], output[32..]);
    }

    /// <summary>KDF_CK: message key = HMAC-SHA256(ck, 0x01), next chain key = HMAC-SHA256(ck, 0x02).</summary>
    public static (byte[] MessageKey, byte[] NextChainKey) Chain(byte[] chainKey)
    {
        using var key = Key.Import(MacAlgorithm.HmacSha256, chainKey, KeyBlobFormat.RawSymmetricKey);
        return (MacAlgorithm.HmacSha256.Mac(key, MessageKeyInput), MacAlgorithm.HmacSha256.Mac(key, ChainKeyInput));
    }

    /// <summary>A message key becomes an AEAD key and nonce: HKDF(mk, salt = 0×32, 44) → key (32) || nonce (12).</summary>
    public static (byte[] Key, byte[] Nonce) MessageKeys(byte[] messageKey)
    {
        var output = Hkdf.DeriveBytes(messageKey, Bytes.Zeros(32), MessageInfo, Aead.KeySize + Aead.NonceSize);
        return (output[..Aead.KeySize], output[Aead.KeySize..]);
    }
}
