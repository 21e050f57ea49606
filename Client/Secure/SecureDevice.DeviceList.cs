using Natter.Client.Crypto;
using Natter.Messages.Protocol;

namespace Natter.Client.Secure;

/// <summary>
/// The account's signed device list (docs/e2ee.md §7.2), kept by its primary device: the identity keys of the account's
/// devices under a version that only grows. An endorsement cannot be taken back; the list can: a device the primary
/// removed is left out of the next list, and contacts who saw that list refuse it even though its endorsement verifies.
/// </summary>
public sealed partial class SecureDevice
{
    private const int ListAttempts = 3;

    /// <summary>
    /// Approves the device that shows <paramref name="linkCode"/> (docs/protocol.md §2.5), endorses the identity key in the
    /// code, and signs the account's device list with that key in, so others seal for it. Only the primary device approves.
    /// Answers the account's devices.
    /// </summary>
    public async Task<List<DeviceView>> ApproveLinkAsync(string linkCode, CancellationToken ct = default)
    {
        var code = DeviceLinkCode.Parse(linkCode);
        var accountKey = _crypto.Keys.Identity;
        for (var attempt = 1; ; attempt++)
        {
            var list = await NextListAsync(adding: code.IdentityKey, ct);
            try
            {
                var devices = await _api.ApproveLinkAsync(_session.AccessToken, code.LinkId, code.ApprovalCode, code.IdentityKey,
                    accountKey.EndorseDevice(_session.UserId, code.IdentityKey), code.MacOf(accountKey.IdentityKey), list, ct);
                await PinOwnListAsync(list, ct);
                return devices;
            }
            // Another approval or publish took this version first: sign again on top of it.
            catch (NatterApiException e) when (e.Code == ErrorCodes.StaleDeviceList && attempt < ListAttempts)
            {
            }
        }
    }

    /// <summary>
    /// Removes a device of this account (the primary removes any other, a linked device only itself). The primary then signs
    /// the account's device list without it, so a server that listed it again would not be believed. Answers the devices left.
    /// </summary>
    public async Task<List<DeviceView>> RemoveDeviceAsync(int deviceId, CancellationToken ct = default)
    {
        var devices = await _api.RemoveDeviceAsync(_session.AccessToken, deviceId, ct);
        if (IsPrimary) await PublishDeviceListAsync(ct);
        return devices;
    }

    /// <summary>
    /// Signs and publishes the account's device list again if the account's devices changed since the last one (a linked device
    /// removed itself, or the list predates this version), which only the primary device does. Answers whether it published.
    /// </summary>
    public async Task<bool> PublishDeviceListAsync(CancellationToken ct = default)
    {
        if (!IsPrimary) throw new InvalidOperationException("Only the primary device signs the account's device list.");
        for (var attempt = 1; ; attempt++)
        {
            var list = await NextListAsync(adding: null, ct);
            if (OwnList() is { } pinned && pinned.Keys.Count == list.Keys.Count && list.Keys.All(pinned.Names)) return false;
            try
            {
                await _api.PublishDeviceListAsync(_session.AccessToken, list, ct);
                await PinOwnListAsync(list, ct);
                return true;
            }
            catch (NatterApiException e) when (e.Code == ErrorCodes.StaleDeviceList && attempt < ListAttempts)
            {
            }
        }
    }

    /// <summary>
    /// A <c>devices_changed</c> frame: the user's listing is read and checked now (a newer signed list is pinned, so an older
    /// one is refused from then on), sessions with devices it no longer lists are dropped, and the devices this device seals
    /// for follow it. For this account's own primary, the device list is signed again if a device left.
    /// </summary>
    public async Task OnDevicesChangedAsync(DevicesChangedFrame changed, CancellationToken ct = default)
    {
        if (changed.UserId == _session.UserId && IsPrimary) await PublishDeviceListAsync(ct);
        var listing = await ListingAsync(changed.UserId, ct);
        CheckAccount(changed.UserId, listing);
        ForgetOutdatedSessions(changed.UserId, listing);
        lock (_devicesGate)
        {
            if (_devices.TryGetValue(changed.UserId, out var known))
            {
                var listed = listing.Devices.Select(d => d.DeviceId).ToHashSet();
                foreach (var gone in known.Where(id => !listed.Contains(id)))
                    _crypto.ForgetDevice(AddressOf(changed.UserId, gone));
                _devices[changed.UserId] = listed;
            }
        }
        await OnStateChangedAsync(ct);
    }

    private bool IsPrimary
    {
        get
        {
            lock (_devicesGate)
                return _accountKeys.TryGetValue(_session.UserId, out var own) && own.Key.AsSpan().SequenceEqual(_crypto.Keys.Identity.IdentityKey);
        }
    }

    private PinnedList? OwnList()
    {
        lock (_devicesGate) return _accountKeys.GetValueOrDefault(_session.UserId)?.List;
    }

    /// <summary>
    /// The next list: the keys of the last one this device signed (or, for the first, of the devices it endorsed) that the
    /// account still has, this device's own, and <paramref name="adding"/>. Reading them from the server alone would let it
    /// slip back in a device removed earlier, whose endorsement still verifies; the server can only make the list shorter.
    /// </summary>
    private async Task<DeviceListView> NextListAsync(byte[]? adding, CancellationToken ct)
    {
        var own = _crypto.Keys.Identity;
        // The directory's list, checked and pinned if newer (a state restored from before the last list signed).
        CheckAccount(_session.UserId, await ListingAsync(_session.UserId, ct));
        var pinned = OwnList();
        var devices = await _api.GetDevicesAsync(_session.AccessToken, ct);
        var endorsed = devices.Where(d => !d.Primary && d.IdentityKey is { Length: KeySignatures.PublicKeySize }).Select(d => d.IdentityKey!).ToList();
        var keys = new List<byte[]> { own.IdentityKey };
        foreach (var key in endorsed.Where(k => pinned?.Names(k) ?? true).Append(adding).OfType<byte[]>())
            if (keys.All(k => !k.AsSpan().SequenceEqual(key))) keys.Add(key);
        var version = (pinned?.Version ?? 0) + 1;
        return new DeviceListView(version, keys, own.SignDeviceList(_session.UserId, version, keys));
    }

    /// <summary>The list the server took, pinned for this account and saved: the directory may not serve an older one after it.</summary>
    private async Task PinOwnListAsync(DeviceListView list, CancellationToken ct)
    {
        lock (_devicesGate)
            if (_accountKeys.TryGetValue(_session.UserId, out var own) && list.Version > (own.List?.Version ?? 0))
                _accountKeys[_session.UserId] = own with { List = new PinnedList(list.Version, list.Keys) };
        await OnStateChangedAsync(ct);
    }
}
