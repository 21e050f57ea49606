using Natter.Client.Crypto;
using Natter.Messages.Protocol;

namespace Natter.Client;

public static class PublishKeysRequests
{
    /// <summary>What <c>PUT /api/keys</c> takes for a device's keys, with the one-time prekeys given (none: only the rest).</summary>
    public static PublishKeysRequest PublishRequest(this DeviceKeys keys, IEnumerable<OneTimePreKeyPair> oneTimePreKeys) => new(
        keys.Identity.IdentityKey, keys.Identity.IdentityDhKey.PublicKey, keys.Identity.IdentityDhSignature,
        new SignedPreKeyView(keys.SignedPreKey.Id, keys.SignedPreKey.PublicKey, keys.SignedPreKey.Signature),
        oneTimePreKeys.Select(k => new OneTimePreKeyView(k.Id, k.PublicKey)).ToList());
}
