using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Natter.Client.Crypto;

/// <summary>
/// What a device asking to be linked shows the account's primary device, as a QR code (docs/e2ee.md §7): the link
/// and its approval code, the new device's identity key, and a secret that never reaches the server. The primary
/// endorses exactly that identity key, so the server cannot slip in its own; the MAC over the account key under
/// the secret tells the new device which account key endorsed it, so the server cannot slip in a false account either.
/// </summary>
public sealed record DeviceLinkCode(string LinkId, string ApprovalCode, byte[] IdentityKey, byte[] LinkSecret)
{
    public const string Prefix = "natter-link-v1";
    public const int SecretSize = 16;

    private static readonly byte[] MacLabel = Encoding.ASCII.GetBytes(Prefix);

    /// <summary>A code for this link with a fresh secret.</summary>
    public static DeviceLinkCode For(string linkId, string approvalCode, byte[] identityKey) =>
        new(linkId, approvalCode, identityKey, RandomNumberGenerator.GetBytes(SecretSize));

    /// <summary>"natter-link-v1:{linkId}:{approvalCode}:{identityKey}:{secret}", keys in base64url without padding.</summary>
    public override string ToString() => $"{Prefix}:{LinkId}:{ApprovalCode}:{Base64Url.EncodeToString(IdentityKey)}:{Base64Url.EncodeToString(LinkSecret)}";

    /// <summary>The code a primary device scanned, or an <see cref="ArgumentException"/> saying what is wrong with it.</summary>
    public static DeviceLinkCode Parse(string text)
    {
        var parts = text.Trim().Split(':');
        if (parts.Length != 5 || parts[0] != Prefix) throw new ArgumentException($"not a link code: it reads {Prefix}:link:code:key:secret", nameof(text));
        byte[] identityKey, secret;
        try
        {
            identityKey = Base64Url.DecodeFromChars(parts[3]);
            secret = Base64Url.DecodeFromChars(parts[4]);
        }
        catch (FormatException)
        {
            throw new ArgumentException("the link code's keys are not base64url", nameof(text));
        }
        if (identityKey.Length != KeySignatures.PublicKeySize || secret.Length != SecretSize)
            throw new ArgumentException("the link code's key or secret has the wrong length", nameof(text));
        return new DeviceLinkCode(parts[1], parts[2], identityKey, secret);
    }

    /// <summary>HMAC-SHA256(secret, "natter-link-v1" || accountKey || identityKey): the primary's proof that it scanned this code.</summary>
    public byte[] MacOf(ReadOnlySpan<byte> accountKey) =>
        HMACSHA256.HashData(LinkSecret, (byte[])[.. MacLabel, .. accountKey, .. IdentityKey]);

    public bool Verifies(ReadOnlySpan<byte> accountKey, ReadOnlySpan<byte> mac) => CryptographicOperations.FixedTimeEquals(MacOf(accountKey), mac);
}
