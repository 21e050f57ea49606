using System.Security.Cryptography;

namespace Natter.Messages.Protocol;

/// <summary>
/// Which identity key an envelope was sealed for, in a few bytes: the first 8 bytes of SHA-256 of the device's
/// published identity key, base64. The server compares it with the key the device has now and refuses a send
/// sealed for an older one (stale_devices, <c>changed</c>), so a sender learns of a reinstall whether or not it
/// was online when the identity changed. Not a security measure: it only tells an honest sender its keys are old.
/// </summary>
public static class IdentityTags
{
    public static string Of(byte[] identityKey) => Convert.ToBase64String(SHA256.HashData(identityKey).AsSpan(0, 8));
}
