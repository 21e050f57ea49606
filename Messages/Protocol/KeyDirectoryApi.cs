namespace Natter.Messages.Protocol;

// The REST shapes of the key directory (/api/keys): see docs/e2ee.md. Keys and signatures are base64.

public sealed record SignedPreKeyView(uint Id, byte[] PublicKey, byte[] Signature);

public sealed record OneTimePreKeyView(uint Id, byte[] PublicKey);

/// <summary>PUT /api/keys: the calling device's keys.</summary>
public sealed record PublishKeysRequest(
    byte[]? IdentityKey,
    byte[]? IdentityDhKey,
    byte[]? IdentityDhSignature,
    SignedPreKeyView? SignedPreKey,
    IReadOnlyList<OneTimePreKeyView>? OneTimePreKeys);

/// <summary>The calling device's keys as the directory holds them.</summary>
public sealed record KeysStatusView(int DeviceId, bool Published, uint SignedPreKeyId, int OneTimePreKeysLeft, IReadOnlyList<uint> OneTimePreKeyIds);

/// <summary>What a session initiator needs for one device; <see cref="OneTimePreKey"/> is null once the device ran out.</summary>
public sealed record PreKeyBundleView(
    string UserId,
    int DeviceId,
    byte[] IdentityKey,
    byte[] IdentityDhKey,
    byte[] IdentityDhSignature,
    SignedPreKeyView SignedPreKey,
    OneTimePreKeyView? OneTimePreKey);

/// <summary>One keyed device's identity (GET /api/keys/{phone}/devices): what a receiver checks a new session against.</summary>
public sealed record DeviceIdentityView(int DeviceId, byte[] IdentityKey, byte[] IdentityDhKey, byte[] IdentityDhSignature);

/// <summary>GET /api/keys/{phone}/devices: the user's devices that can receive sealed messages; hands out no prekey.</summary>
public sealed record UserDevicesView(string UserId, IReadOnlyList<DeviceIdentityView> Devices);

/// <summary>GET /api/keys/{phone}: a bundle for every device of the user that published keys.</summary>
public sealed record UserBundlesView(string UserId, IReadOnlyList<PreKeyBundleView> Devices);
