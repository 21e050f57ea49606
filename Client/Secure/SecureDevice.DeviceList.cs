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

    // One list signed at a time, each under a version never signed before (kept in the saved state): two different lists
    // of one version would let a server show either.
    private readonly SemaphoreSlim _signingList = new(1, 1);
    // Guarded by _devicesGate.
    private long _highestListVersion;

    /// <summary>
    /// Approves the device that shows <paramref name="linkCode"/> (docs/protocol.md §2.5), endorses the identity key in the
    /// code, and signs the account's device list with that key in, so others seal for it. Only the primary device approves.
    /// Answers the account's devices.
    /// </summary>
    public async Task<List<DeviceView>> ApproveLinkAsync(string linkCode, CancellationToken ct = default)
    {
        var code = DeviceLinkCode.Parse(linkCode);
        var accountKey = _crypto.Keys.Identity;
        var (_, devices) = await PublishNextListAsync(adding: code.IdentityKey, removing: null, list =>
            _api.ApproveLinkAsync(_session.AccessToken, code.LinkId, code.ApprovalCode, code.IdentityKey,
                accountKey.EndorseDevice(_session.UserId, code.IdentityKey), code.MacOf(accountKey.IdentityKey), list, ct), ct);
        return devices!;
    }

    /// <summary>
    /// Removes a device of this account (the primary removes any other, a linked device only itself). The primary first
    /// signs the account's device list without the device's key, so a server that listed it again would not be believed,
    /// and never signs it back in. Answers the devices left.
    /// </summary>
    public async Task<List<DeviceView>> RemoveDeviceAsync(int deviceId, CancellationToken ct = default)
    {
        if (await IsPrimaryAsync(ct))
        {
            // The key the primary endorsed for it, as the server names it (docs/e2ee.md §12).
            var removed = (await _api.GetDevicesAsync(_session.AccessToken, ct)).FirstOrDefault(d => d.DeviceId == deviceId)?.IdentityKey;
            if (removed is not null) await SignListAsync(removed, ct);
        }
        return await _api.RemoveDeviceAsync(_session.AccessToken, deviceId, ct);
    }

    /// <summary>
    /// Signs and publishes the account's device list again if the account's devices changed since the last one (a linked device
    /// removed itself, or the account has no list yet), which only the primary device does. Answers whether it published.
    /// </summary>
    public async Task<bool> PublishDeviceListAsync(CancellationToken ct = default)
    {
        if (!await IsPrimaryAsync(ct)) throw new InvalidOperationException("Only the primary device signs the account's device list.");
        return await SignListAsync(removing: null, ct);
    }

    /// <summary>
    /// A <c>devices_changed</c> frame: the user's listing is read and checked now (a newer signed list is pinned, so an older
    /// one is refused from then on), sessions with devices it no longer lists are dropped, and the devices this device seals
    /// for follow it. For this account's own primary, the device list is then signed again if a device left.
    /// </summary>
    public async Task OnDevicesChangedAsync(DevicesChangedFrame changed, CancellationToken ct = default)
    {
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
        if (changed.UserId == _session.UserId && await IsPrimaryAsync(ct)) await SignListAsync(removing: null, ct);
    }

    /// <summary>
    /// The identity a sender's message is opened with: the one this device knows, while its account's pinned device list
    /// names it (or the account has none). Otherwise the session kept is with a key removed since, or replaced by a
    /// reinstall this device was not told of: the directory's identity of the device, checked against the listing and its
    /// list (a newer list is pinned), is answered with whether a new account key was raised; a device the list does not
    /// name is not believed (<see cref="UntrustedIdentityException"/>), whatever session this device kept with it.
    /// </summary>
    private async Task<(DeviceIdentity Identity, bool Raised)> ListedIdentityAsync(DeviceAddress sender, DeviceIdentity identity, CancellationToken ct)
    {
        if (PinnedListOf(sender.UserId)?.Names(identity.IdentityKey) != false) return (identity, false);
        try
        {
            var (current, raised) = await CheckedIdentityAsync(sender, ct);
            return current.IdentityKey.AsSpan().SequenceEqual(identity.IdentityKey) ? (identity, raised) : (current, raised);
        }
        finally
        {
            // A newer list pinned is kept across a restart, even if nothing opens.
            await OnStateChangedAsync(ct);
        }
    }

    /// <summary>The next list without <paramref name="removing"/>, published unless it names the keys of the last one.</summary>
    private async Task<bool> SignListAsync(byte[]? removing, CancellationToken ct) =>
        (await PublishNextListAsync(adding: null, removing, list => _api.PublishDeviceListAsync(_session.AccessToken, list, ct), ct)).Published;

    /// <summary>
    /// Signs the next list and hands it to <paramref name="publish"/> (with an approval, or alone), one list at a time; the list
    /// the server took is pinned. Signs again on top when another copy of the primary took that version. Without a key to
    /// add, a list naming the keys of the last one is not published (its version is left unused: it never left this device).
    /// </summary>
    private async Task<(bool Published, T? Answer)> PublishNextListAsync<T>(byte[]? adding, byte[]? removing, Func<DeviceListView, Task<T>> publish,
        CancellationToken ct)
    {
        await _signingList.WaitAsync(ct);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var list = await NextListAsync(adding, removing, ct);
                if (adding is null && PinnedListOf(_session.UserId) is { } current && new PinnedList(list.Version, list.Keys).SameKeys(current))
                    return (false, default);
                try
                {
                    var answer = await publish(list);
                    await PinOwnListAsync(list, ct);
                    return (true, answer);
                }
                catch (NatterApiException e) when (e.Code == ErrorCodes.StaleDeviceList && attempt < ListAttempts)
                {
                }
            }
        }
        finally
        {
            _signingList.Release();
        }
    }

    private PinnedList? PinnedListOf(string userId)
    {
        lock (_devicesGate) return _accountKeys.GetValueOrDefault(userId)?.List;
    }

    /// <summary>Whether this device is its account's primary: its identity key is the account key (read from the directory if not pinned).</summary>
    private async Task<bool> IsPrimaryAsync(CancellationToken ct)
    {
        bool pinned;
        lock (_devicesGate) pinned = _accountKeys.ContainsKey(_session.UserId);
        // A state saved before account keys were kept: this account's key from its listing, checked.
        if (!pinned) CheckAccount(_session.UserId, await ListingAsync(_session.UserId, ct));
        lock (_devicesGate)
            return _accountKeys.TryGetValue(_session.UserId, out var own) && own.Key.AsSpan().SequenceEqual(_crypto.Keys.Identity.IdentityKey);
    }

    /// <summary>
    /// The next list: the keys of the last one this device signed (or, for the first, of the devices it endorsed) that the
    /// account still has, but <paramref name="removing"/>, with its own and <paramref name="adding"/>. Taken from the
    /// server alone, a device removed earlier could slip back in; the server can only make the list shorter. Its version is
    /// above every one seen or signed, and is recorded (saved) before the list leaves.
    /// </summary>
    private async Task<DeviceListView> NextListAsync(byte[]? adding, byte[]? removing, CancellationToken ct)
    {
        var own = _crypto.Keys.Identity;
        // The directory's list, checked and pinned if newer (a state restored from before the last list signed).
        CheckAccount(_session.UserId, await ListingAsync(_session.UserId, ct));
        var pinned = PinnedListOf(_session.UserId);
        var devices = await _api.GetDevicesAsync(_session.AccessToken, ct);
        var endorsed = devices.Where(d => !d.Primary && d.IdentityKey is { Length: KeySignatures.PublicKeySize }).Select(d => d.IdentityKey!).ToList();
        var keys = new List<byte[]> { own.IdentityKey };
        foreach (var key in endorsed.Where(k => pinned?.Names(k) ?? true).Append(adding).OfType<byte[]>())
            if (keys.All(k => !k.AsSpan().SequenceEqual(key)) && (removing is null || !key.AsSpan().SequenceEqual(removing))) keys.Add(key);
        long version;
        lock (_devicesGate) _highestListVersion = version = Math.Max(pinned?.Version ?? 0, _highestListVersion) + 1;
        await OnStateChangedAsync(ct);
        return new DeviceListView(version, keys, own.SignDeviceList(_session.UserId, version, keys));
    }

    /// <summary>The list the server took, pinned for this account and saved: the directory may not serve an older one after it.</summary>
    private async Task PinOwnListAsync(DeviceListView list, CancellationToken ct)
    {
        lock (_devicesGate)
            if (_accountKeys.TryGetValue(_session.UserId, out var own) && list.Version > (own.List?.Version ?? 0))
            {
                var pinned = new PinnedList(list.Version, list.Keys);
                _accountKeys[_session.UserId] = own with { List = pinned };
                // Its own siblings too: a device it just left out is sealed for no more, whatever the server says.
                ForgetUnlisted(_session.UserId, pinned, listing: null);
            }
        await OnStateChangedAsync(ct);
    }
}
