using Natter.Messages;
using Natter.Messages.Users;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserEvents;

namespace Natter.Actors.Users;

/// <summary>The key directory of an account: each device's published keys, and one-time prekeys handed out once.</summary>
public sealed partial record UserState
{
    public const int KeyLength = 32;
    public const int SignatureLength = 64;
    public const int MaxOneTimePreKeysPerPublish = 100;
    public const int MaxOneTimePreKeys = 200;

    /// <summary>Below this many one-time prekeys left, the device is told to publish more.</summary>
    public const int LowPreKeys = 10;

    public DeviceKeyState? KeysOf(DeviceId device) => Keys?.FirstOrDefault(k => k.Device == device);

    public UserReplies.KeysStatus KeysStatusOf(DeviceId device) => KeysOf(device) is { } keys
        ? new(Id, device, true, keys.SignedPreKey.Id, keys.OneTimePreKeys.Count, keys.OneTimePreKeys.Select(k => k.Id).ToList())
        : new(Id, device, false, 0, 0, []);

    public UserReplies.KeyedDevices ToKeyedDevices() => new(Id, Exists, TrustedKeys().Select(k => new UserReplies.DeviceKeyIdentity(
        k.Device, k.IdentityKey, k.IdentityDhKey, k.IdentityDhSignature, IsPrimary(k.Device), AccountSignatureOf(k.Device))).ToList(),
        CurrentDeviceList());

    /// <summary>
    /// Whether <paramref name="other"/> hands out the same devices with the same identity keys for sealed sends: all an
    /// edge's cache of <see cref="ToKeyedDevices"/> is used for (ChatGateway's envelope check).
    /// </summary>
    public bool SameKeyedDevices(UserState other)
    {
        // All TrustedKeys reads; most events leave them as they were.
        if (ReferenceEquals(Devices, other.Devices) && ReferenceEquals(Keys, other.Keys) && ReferenceEquals(DeviceList, other.DeviceList)) return true;
        var mine = TrustedKeys().ToList();
        var theirs = other.TrustedKeys().ToList();
        return mine.Count == theirs.Count
            && mine.Zip(theirs).All(p => p.Item1.Device == p.Item2.Device && p.Item1.IdentityKey.AsSpan().SequenceEqual(p.Item2.IdentityKey));
    }

    private bool IsPrimary(DeviceId device) => Devices.Count > 0 && Devices[0].Id == device;

    private byte[]? AccountSignatureOf(DeviceId device) => IsPrimary(device) ? null : Devices.FirstOrDefault(d => d.Id == device)?.Endorsement?.Signature;

    /// <summary>
    /// The keys the directory hands out: the primary's, and a linked device's when the primary endorsed that identity key
    /// (docs/e2ee.md §7.1) and the account's signed device list, if it has one, names it (§7.2). Keys published before
    /// endorsements existed, under an endorsement a later primary key voided, or left out of the list, are kept but not
    /// handed out: clients would refuse them.
    /// </summary>
    private IEnumerable<DeviceKeyState> TrustedKeys()
    {
        // The account key and the list, read once: an endorsement counts only under the current primary's identity key.
        var accountKey = AccountKey();
        var list = CurrentDeviceList();
        return Devices
            .Select(d => (Device: d, Keys: KeysOf(d.Id)))
            .Where(x => x.Keys is not null && (IsPrimary(x.Device.Id) || EndorsedFor(x.Device, x.Keys.IdentityKey, accountKey)))
            .Where(x => list is null || IsPrimary(x.Device.Id) || Lists(list, x.Keys!.IdentityKey))
            .Select(x => x.Keys!);
    }

    /// <summary>The primary's published identity key: the account key.</summary>
    private byte[]? AccountKey() => Devices.Count > 0 ? KeysOf(Devices[0].Id)?.IdentityKey : null;

    private static bool EndorsedFor(DeviceInfo device, byte[] identityKey, byte[]? accountKey) =>
        device.Endorsement is { } e && accountKey is not null
        && e.IdentityKey.AsSpan().SequenceEqual(identityKey) && accountKey.AsSpan().SequenceEqual(e.AccountKey);

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecidePublish(PublishKeys p)
    {
        if (Devices.All(d => d.Id != p.Device)) return ([], (UserRejections.UnknownDevice, $"no device {p.Device}"));
        if (new[] { p.IdentityKey, p.IdentityDhKey, p.SignedPreKey.PublicKey }.Any(k => k?.Length != KeyLength)
            || p.OneTimePreKeys.Any(k => k.PublicKey?.Length != KeyLength))
            return ([], (UserRejections.InvalidKey, $"public keys are {KeyLength} bytes"));
        if (p.IdentityDhSignature?.Length != SignatureLength || p.SignedPreKey.Signature?.Length != SignatureLength)
            return ([], (UserRejections.InvalidKey, $"signatures are {SignatureLength} bytes"));
        if (p.OneTimePreKeys.Count > MaxOneTimePreKeysPerPublish)
            return ([], (UserRejections.InvalidKey, $"at most {MaxOneTimePreKeysPerPublish} one-time prekeys per publish"));
        if (p.OneTimePreKeys.Select(k => k.Id).Distinct().Count() != p.OneTimePreKeys.Count)
            return ([], (UserRejections.InvalidKey, "one-time prekey ids must be distinct"));

        var device = Devices.First(d => d.Id == p.Device);
        if (!IsPrimary(p.Device) && device.Endorsement?.IdentityKey.AsSpan().SequenceEqual(p.IdentityKey) != true)
            return ([], (UserRejections.DeviceNotEndorsed, device.Endorsement is null
                ? "the primary device did not endorse this device's keys when it approved the link; link it again with keys"
                : "this is not the identity key the primary device endorsed; a reinstalled linked device is linked again"));

        var current = KeysOf(p.Device);
        var identityChanged = current is not null && !current.IdentityKey.AsSpan().SequenceEqual(p.IdentityKey);
        var kept = current is null || identityChanged ? [] : current.OneTimePreKeys.Where(k => p.OneTimePreKeys.All(n => n.Id != k.Id));
        if (kept.Count() + p.OneTimePreKeys.Count > MaxOneTimePreKeys)
            return ([], (UserRejections.InvalidKey, $"a device keeps at most {MaxOneTimePreKeys} one-time prekeys"));
        var published = new DeviceKeysPublished(Id, p.Device, p.IdentityKey, p.IdentityDhKey, p.IdentityDhSignature, p.SignedPreKey,
            p.OneTimePreKeys, First: current is null, identityChanged, p.At);
        if (!identityChanged || !IsPrimary(p.Device)) return ([published], null);
        // A new account key voids every endorsement the old one signed: those devices are logged out and link again.
        return ([published, .. Devices.Where(d => d.Endorsement is not null)
            .Select(d => new DeviceRemoved(Id, d.Id, p.Device, p.At))], null);
    }

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecideClaim(ClaimBundles c)
    {
        if (c.Device is { } one && Devices.All(d => d.Id != one)) return ([], (UserRejections.UnknownDevice, $"no device {one}"));
        var targets = TargetsOf(c);
        if (targets.Count == 0)
            return ([], (UserRejections.KeysNotPublished, c.Device is null ? "no device of this user published keys" : $"device {c.Device} published no keys"));
        var claims = targets.Where(k => k.OneTimePreKeys.Count > 0).Select(k => new PreKeyClaim(k.Device, k.OneTimePreKeys[0].Id)).ToList();
        // Nothing to write when every device ran out: the bundles go out without a one-time prekey.
        return claims.Count == 0 ? ([], null) : ([new PreKeysClaimed(Id, claims, c.At)], null);
    }

    /// <summary>The bundles a claim hands out, read from the state before the claim was applied.</summary>
    public UserReplies.Bundles BundlesFor(ClaimBundles c) => new(Id, TargetsOf(c)
        .Select(k => new PreKeyBundle(Id, k.Device, k.IdentityKey, k.IdentityDhKey, k.IdentityDhSignature, k.SignedPreKey,
            k.OneTimePreKeys.Count > 0 ? k.OneTimePreKeys[0] : null, IsPrimary(k.Device), AccountSignatureOf(k.Device)))
        .ToList(), CurrentDeviceList());

    private List<DeviceKeyState> TargetsOf(ClaimBundles c) => TrustedKeys().Where(k => c.Device is null || k.Device == c.Device).ToList();

    private UserState ApplyKeys(DeviceKeysPublished p)
    {
        var current = KeysOf(p.Device);
        var kept = current is null || p.IdentityChanged ? [] : current.OneTimePreKeys.Where(k => p.OneTimePreKeys.All(n => n.Id != k.Id));
        var keys = new DeviceKeyState(p.Device, p.IdentityKey, p.IdentityDhKey, p.IdentityDhSignature, p.SignedPreKey,
            [.. kept, .. p.OneTimePreKeys]);
        return this with { Keys = [.. (Keys ?? []).Where(k => k.Device != p.Device), keys] };
    }

    private UserState ApplyClaims(PreKeysClaimed c) => this with
    {
        Keys = (Keys ?? []).Select(k => k with
        {
            OneTimePreKeys = k.OneTimePreKeys.Where(o => !c.Claims.Any(x => x.Device == k.Device && x.PreKeyId == o.Id)).ToList(),
        }).ToList(),
    };
}
