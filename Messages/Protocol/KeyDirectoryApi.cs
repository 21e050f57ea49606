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
    OneTimePreKeyView? OneTimePreKey,
    bool Primary = false,
    byte[]? AccountSignature = null);

/// <summary>
/// One keyed device's identity (GET /api/keys/{phone}/devices): what a receiver checks a new session against. The primary's
/// identity key is the account key; every other device comes with the account key's signature of its identity key.
/// </summary>
public sealed record DeviceIdentityView(int DeviceId, byte[] IdentityKey, byte[] IdentityDhKey, byte[] IdentityDhSignature,
    bool Primary = false, byte[]? AccountSignature = null);

/// <summary>
/// What a linked device collects with its session when the primary endorsed its identity key (docs/e2ee.md §7): the account
/// key, its signature of the device's identity key, and the MAC under the link code's secret that vouches for the account key.
/// </summary>
public sealed record DeviceEndorsementView(byte[] AccountKey, byte[] Signature, byte[] LinkMac);

/// <summary>
/// The account's signed device list (docs/e2ee.md §7.2): the identity keys of its devices at a version that only grows,
/// signed by the account key (the primary's identity key). PUT /api/devices/list publishes one; listings carry it.
/// </summary>
public sealed record DeviceListView(long Version, IReadOnlyList<byte[]> Keys, byte[] Signature);

/// <summary>GET /api/keys/{phone}/devices: the user's devices that can receive sealed messages; hands out no prekey.</summary>
public sealed record UserDevicesView(string UserId, IReadOnlyList<DeviceIdentityView> Devices, DeviceListView? DeviceList = null);

/// <summary>GET /api/keys/{phone}: a bundle for every device of the user that published keys.</summary>
public sealed record UserBundlesView(string UserId, IReadOnlyList<PreKeyBundleView> Devices, DeviceListView? DeviceList = null);
