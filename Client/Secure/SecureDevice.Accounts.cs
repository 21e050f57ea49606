using Natter.Client.Crypto;
using Natter.Messages.Protocol;

namespace Natter.Client.Secure;

/// <summary>
/// Which devices belong to an account (docs/e2ee.md §7): the primary device's identity key is the account key, and every
/// other device is sealed for, or believed, only with that key's signature of its identity key. The server cannot add a
/// device of its own to an account without changing the account key, which the safety number covers and which raises
/// <see cref="IdentityChanged"/> here.
/// </summary>
public sealed partial class SecureDevice
{
    // The account key of each user as this device knows it (trust on first use; this account's own from its creation or
    // its link), with the device it belongs to. Guarded by _devicesGate.
    private readonly Dictionary<string, AccountKey> _accountKeys = new();

    /// <summary>
    /// An account's key and its primary device (unknown to a linked device for its own account), with the newest signed
    /// device list seen under that key (none before the account signed one). <see cref="Replaced"/>: this device was told
    /// the primary has a new identity; its next account key is taken without a second notice, and this key's list stays
    /// pinned should the same key come back (the notice is the server's word).
    /// </summary>
    internal sealed record AccountKey(int? PrimaryDevice, byte[] Key, PinnedList? List = null, bool Replaced = false);

    /// <summary>A signed device list as checked and pinned (docs/e2ee.md §7.2): its version and the identity keys it names.</summary>
    internal sealed record PinnedList(long Version, IReadOnlyList<byte[]> Keys)
    {
        public bool Names(byte[] identityKey) => Keys.Any(k => k.AsSpan().SequenceEqual(identityKey));

        public bool SameKeys(PinnedList other) => Keys.Count == other.Keys.Count && Keys.All(other.Names);
    }

    /// <summary>A device of a user's directory listing, as the account check reads it.</summary>
    private readonly record struct ListedDevice(int DeviceId, byte[] IdentityKey, bool Primary, byte[]? AccountSignature);

    /// <summary>A user's keyed devices as the directory lists them, with the account's signed device list if it has one.</summary>
    private sealed record Listing(IReadOnlyList<ListedDevice> Devices, DeviceListView? List);

    /// <summary>
    /// Checks a user's keyed devices against their account key: every device but the primary needs the primary key's
    /// signature, and only a listing that checks whole is taken. The primary's key is pinned the first time (this
    /// account's own must be this device's key if it is the primary, and never changes under it); a contact's new one is
    /// taken and <see cref="IdentityChanged"/> raised, unless this device was told of it already. Answers whether it was raised.
    /// </summary>
    private bool CheckAccount(string userId, Listing listing)
    {
        var devices = listing.Devices;
        if (devices.Count == 0) return false;
        var primaries = devices.Where(d => d.Primary).ToList();
        if (primaries.Count != 1)
            throw new UntrustedIdentityException(null, $"the directory lists {primaries.Count} primary devices for {userId}");
        var primary = primaries[0];
        // An endorsement names a key, not a device id: one key under two ids would let a device be sealed for twice.
        if (devices.Select(d => Convert.ToBase64String(d.IdentityKey)).Distinct().Count() != devices.Count)
            throw new UntrustedIdentityException(null, $"the directory lists one identity key for two devices of {userId}");
        foreach (var device in devices.Where(d => !d.Primary))
            if (!Endorsed(primary.IdentityKey, userId, device))
                throw NotEndorsed(userId, device.DeviceId);
        if (userId == _session.UserId && primary.DeviceId == _session.DeviceId && !primary.IdentityKey.AsSpan().SequenceEqual(_crypto.Keys.Identity.IdentityKey))
            throw new UntrustedIdentityException(Address, "the directory names another identity key for this very device");
        var list = CheckedList(userId, primary.IdentityKey, listing);
        lock (_devicesGate)
        {
            if (!_accountKeys.TryGetValue(userId, out var known))
            {
                _accountKeys[userId] = new AccountKey(primary.DeviceId, primary.IdentityKey, list);
                return false;
            }
            if (known.Key.AsSpan().SequenceEqual(primary.IdentityKey))
            {
                // Under the same account key the list only moves forward: an older one may name a device removed since.
                if (known.List is { } pinned)
                {
                    if (list is null || list.Version < pinned.Version)
                        throw new UntrustedIdentityException(null, list is null
                            ? $"the directory left out the signed device list of {userId} it served before"
                            : $"the directory serves version {list.Version} of the device list of {userId} after version {pinned.Version}");
                    if (list.Version == pinned.Version && !list.SameKeys(pinned))
                        throw new UntrustedIdentityException(null, $"the directory serves two different device lists of version {list.Version} for {userId}");
                }
                if (list is not null && list.Version > (known.List?.Version ?? 0))
                {
                    _accountKeys[userId] = known with { List = list, Replaced = false };
                    ForgetUnlisted(userId, list, listing);
                }
                else if (known.Replaced) _accountKeys[userId] = known with { Replaced = false };
                return false;
            }
            // Its own account's key changes only with a new primary, which logs this device out first.
            if (userId == _session.UserId)
                throw new UntrustedIdentityException(AddressOf(userId, primary.DeviceId), "the directory names another account key for this device's own account");
            _accountKeys[userId] = new AccountKey(primary.DeviceId, primary.IdentityKey, list);
            if (list is not null) ForgetUnlisted(userId, list, listing);
            // Told already (identity_changed, or a send's changed devices): not raised twice.
            if (known.Replaced) return false;
        }
        if (FirstToRaise(AddressOf(userId, primary.DeviceId), primary.IdentityKey))
            IdentityChanged?.Invoke(new IdentityChangedFrame(userId, primary.DeviceId));
        return true;
    }

    /// <summary>
    /// The listing's signed device list, checked: signed by the account key, and naming every listed device. Null when the
    /// account has none (it has not signed one yet; whether it had is the caller's to check against its pin).
    /// </summary>
    private static PinnedList? CheckedList(string userId, byte[] accountKey, Listing listing)
    {
        if (listing.List is not { } view) return null;
        if (view.Keys is null || view.Signature is null || !KeySignatures.VerifyDeviceList(accountKey, userId, view.Version, view.Keys, view.Signature))
            throw new UntrustedIdentityException(null, $"the device list of {userId} is not signed by its account key");
        var list = new PinnedList(view.Version, view.Keys);
        foreach (var device in listing.Devices.Where(d => !list.Names(d.IdentityKey)))
            throw NotEndorsed(userId, device.DeviceId);
        return list;
    }

    /// <summary>
    /// One device's identity key, checked against the pinned account key; when it does not check (or nothing is pinned), against
    /// the directory's whole listing (<paramref name="listing"/> when the caller has it), which may bring a new account key
    /// (raised). Answers whether a change was raised.
    /// </summary>
    private async Task<bool> CheckDeviceAsync(string userId, ListedDevice device, CancellationToken ct, Listing? listing = null)
    {
        AccountKey? known;
        lock (_devicesGate) _accountKeys.TryGetValue(userId, out known);
        if (known is { Replaced: false } && Trusted(known, userId, device)) return false;
        // A new primary key, a device of a new primary (the number verified again), or a device linked since the list this
        // device pinned: checked with the whole listing.
        var raised = CheckAccount(userId, listing ?? await ListingAsync(userId, ct));
        lock (_devicesGate) known = _accountKeys.GetValueOrDefault(userId);
        if (known is null || !Trusted(known, userId, device)) throw NotEndorsed(userId, device.DeviceId);
        return raised;
    }

    /// <summary>Endorsed by the account key, and named by the newest device list seen under it, if any.</summary>
    private static bool Trusted(AccountKey known, string userId, ListedDevice device) =>
        Endorsed(known.Key, userId, device) && known.List?.Names(device.IdentityKey) != false;

    private static bool Endorsed(byte[] accountKey, string userId, ListedDevice device) => device.Primary
        ? accountKey.AsSpan().SequenceEqual(device.IdentityKey)
        : device.AccountSignature is { } signature && KeySignatures.VerifyDevice(accountKey, userId, device.IdentityKey, signature);

    private static UntrustedIdentityException NotEndorsed(string userId, int deviceId) => new(AddressOf(userId, deviceId),
        $"device {deviceId} of {userId} is not endorsed by the account's key, or not in its signed device list: it is not sealed for, nor believed");

    /// <summary>
    /// Sessions with listed devices whose identity is not the listed key are dropped before sealing: the next send starts
    /// one from the device's checked bundle. (Opening keeps them: messages of the old install still open.)
    /// </summary>
    private void ForgetOutdatedSessions(string userId, Listing listing)
    {
        foreach (var device in listing.Devices)
            if (_crypto.IdentityOf(AddressOf(userId, device.DeviceId)) is { } known && !known.IdentityKey.AsSpan().SequenceEqual(device.IdentityKey))
                _crypto.ForgetDevice(AddressOf(userId, device.DeviceId));
    }

    /// <summary>
    /// Told of a new identity of a primary device: its next listing's account key is taken without a second notice. The pin
    /// stays, marked: the notice is the server's word, and the same key coming back must not bring an older list with it.
    /// </summary>
    private void ForgetAccountKeyOf(string userId, int deviceId)
    {
        lock (_devicesGate)
            if (_accountKeys.TryGetValue(userId, out var known) && known.PrimaryDevice == deviceId && userId != _session.UserId)
                _accountKeys[userId] = known with { Replaced = true };
    }

    /// <summary>
    /// A newer list pinned: devices whose session is with a key it does not name (removed since) are no longer sealed for,
    /// nor their sessions kept, whether or not the server says so; nor are devices without a session that the listing it
    /// came with leaves out (a send would fetch a bundle for nothing). The caller holds _devicesGate.
    /// </summary>
    private void ForgetUnlisted(string userId, PinnedList list, Listing? listing)
    {
        if (!_devices.TryGetValue(userId, out var deviceIds)) return;
        foreach (var deviceId in deviceIds.ToList())
        {
            var device = AddressOf(userId, deviceId);
            var unlisted = _crypto.IdentityOf(device) is { } identity
                ? !list.Names(identity.IdentityKey)
                : listing is not null && listing.Devices.All(d => d.DeviceId != deviceId);
            if (!unlisted) continue;
            deviceIds.Remove(deviceId);
            _crypto.ForgetDevice(device);
        }
    }

    /// <summary>A user's keyed devices as the directory lists them (GET /api/keys/{phone}/devices: no prekey handed out).</summary>
    private async Task<Listing> ListingAsync(string userId, CancellationToken ct) =>
        ListingOf(await _api.GetDeviceIdentitiesAsync(_session.AccessToken, "+" + userId, ct));

    private static Listing ListingOf(UserDevicesView view) => new(view.Devices.Select(Listed).ToList(), view.DeviceList);

    private static Listing ListingOf(UserBundlesView view) => new(view.Devices.Select(Listed).ToList(), view.DeviceList);

    private static ListedDevice Listed(DeviceIdentityView d) => new(d.DeviceId, d.IdentityKey, d.Primary, d.AccountSignature);

    private static ListedDevice Listed(PreKeyBundleView b) => new(b.DeviceId, b.IdentityKey, b.Primary, b.AccountSignature);
}
