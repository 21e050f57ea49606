using System.Text.Json.Serialization;

namespace Natter.Messages.Users;

/// <summary>A one-time prekey as published: handed out to one session initiator, then gone.</summary>
public sealed record OneTimePreKey(uint Id, byte[] PublicKey);

/// <summary>The device's medium-term X25519 prekey, signed by its Ed25519 identity key.</summary>
public sealed record SignedPreKey(uint Id, byte[] PublicKey, byte[] Signature);

/// <summary>
/// A device's public keys (see docs/e2ee.md): an Ed25519 identity key, the X25519 identity key it signs,
/// the signed prekey and the one-time prekeys not yet handed out. The server only stores and hands them
/// out; it checks the signatures so a forged prekey is refused at the door.
/// </summary>
public sealed record DeviceKeyState(
    DeviceId Device,
    byte[] IdentityKey,
    byte[] IdentityDhKey,
    byte[] IdentityDhSignature,
    SignedPreKey SignedPreKey,
    IReadOnlyList<OneTimePreKey> OneTimePreKeys);

/// <summary>What an initiator needs to start a session with one device. No one-time prekey once they ran out.</summary>
public sealed record PreKeyBundle(
    UserId UserId,
    DeviceId Device,
    byte[] IdentityKey,
    byte[] IdentityDhKey,
    byte[] IdentityDhSignature,
    SignedPreKey SignedPreKey,
    OneTimePreKey? OneTimePreKey,
    bool Primary = false,
    byte[]? AccountSignature = null);

/// <summary>One one-time prekey handed out.</summary>
public sealed record PreKeyClaim(DeviceId Device, uint PreKeyId);

/// <summary>A device waiting to be linked to an account; the secrets are kept as SHA-256 only.</summary>
public sealed record PendingLink(
    string LinkId,
    string DeviceName,
    string ApprovalHash,
    string DeviceSecretHash,
    DateTimeOffset RequestedAt,
    DateTimeOffset ExpiresAt,
    DeviceId? ApprovedAs,
    DeviceEndorsement? Endorsement = null);

/// <summary>
/// The account's word that <see cref="IdentityKey"/> is one of its devices (docs/e2ee.md §11): the primary device's
/// Ed25519 signature of it with the account key (the primary's identity key), and the MAC that tells the linked
/// device the account key came from the device that scanned its link code.
/// </summary>
public sealed record DeviceEndorsement(byte[] IdentityKey, byte[] AccountKey, byte[] Signature, byte[] LinkMac);

/// <summary>
/// The account's devices as its primary last signed them (docs/e2ee.md §7.2): the identity keys that may be sealed for,
/// under a version that only grows, signed with <see cref="AccountKey"/>. A device left out is revoked even though its
/// endorsement still verifies; clients refuse a listing older than one they saw.
/// </summary>
public sealed record SignedDeviceList(long Version, IReadOnlyList<byte[]> Keys, byte[] AccountKey, byte[] Signature);

/// <summary>
/// Ciphertext from one device of a user to another of the same user (a history transfer's key, say),
/// held until the recipient acknowledges it.
/// </summary>
public sealed record DeviceMessage(long Id, DeviceId From, DeviceId To, byte[] Data, DateTimeOffset At);

/// <summary>Pushed to a user's online devices by their PresenceActor; never stored.</summary>
public static class DeviceNotices
{
    [JsonPolymorphic(TypeDiscriminatorPropertyName = "$notice")]
    [JsonDerivedType(typeof(PreKeysLow), "prekeys_low")]
    [JsonDerivedType(typeof(IdentityChanged), "identity_changed")]
    [JsonDerivedType(typeof(DevicesChanged), "devices_changed")]
    [JsonDerivedType(typeof(LinkRequested), "link_requested")]
    [JsonDerivedType(typeof(DeviceMessageArrived), "device_message")]
    public interface IDeviceNotice : INatterMessage;

    /// <summary>The device has fewer than the threshold of one-time prekeys left: it should publish more.</summary>
    public sealed record PreKeysLow(DeviceId Device, int Remaining) : IDeviceNotice;

    /// <summary>A contact's device published a different identity key (a reinstall, or someone else).</summary>
    public sealed record IdentityChanged(UserId Contact, DeviceId Device) : IDeviceNotice;

    /// <summary>A contact's or the user's own device list changed: senders refresh it before their next send.</summary>
    public sealed record DevicesChanged(UserId User) : IDeviceNotice;

    /// <summary>A new device asks to be linked to the account: an existing device approves it.</summary>
    public sealed record LinkRequested(string LinkId, string DeviceName, DateTimeOffset ExpiresAt) : IDeviceNotice;

    /// <summary>A message from another device of the same user: live, for an online recipient.</summary>
    public sealed record DeviceMessageArrived(DeviceMessage Message) : IDeviceNotice;
}
