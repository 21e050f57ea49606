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

    /// <summary>An account's key and its primary device (unknown to a linked device for its own account).</summary>
    internal sealed record AccountKey(int? PrimaryDevice, byte[] Key);

    /// <summary>
    /// Approves the device that shows <paramref name="linkCode"/> (docs/protocol.md §2.5) and endorses the identity key in
    /// the code, so others seal for it. Only the primary device approves. Answers the account's devices.
    /// </summary>
    public Task<List<DeviceView>> ApproveLinkAsync(string linkCode, CancellationToken ct = default)
    {
        var code = DeviceLinkCode.Parse(linkCode);
        var accountKey = _crypto.Keys.Identity;
        return _api.ApproveLinkAsync(_session.AccessToken, code.LinkId, code.ApprovalCode, code.IdentityKey,
            accountKey.EndorseDevice(_session.UserId, code.IdentityKey), code.MacOf(accountKey.IdentityKey), ct);
    }

    /// <summary>A device of a user's directory listing, as the account check reads it.</summary>
    private readonly record struct ListedDevice(int DeviceId, byte[] IdentityKey, bool Primary, byte[]? AccountSignature);

    /// <summary>
    /// Checks a user's keyed devices against their account key: the primary's key is pinned the first time (and must stay
    /// this account's own); every other device needs the account key's signature. A new account key of a contact is taken,
    /// and <see cref="IdentityChanged"/> raised unless this device was told of it already.
    /// </summary>
    private void CheckAccount(string userId, IReadOnlyCollection<ListedDevice> devices, bool announcing = false)
    {
        if (devices.Count == 0) return;
        var primaries = devices.Where(d => d.Primary).ToList();
        if (primaries.Count != 1)
            throw new UntrustedIdentityException(null, $"the directory lists {primaries.Count} primary devices for {userId}");
        var primary = primaries[0];
        var changed = false;
        lock (_devicesGate)
        {
            if (!_accountKeys.TryGetValue(userId, out var known)) _accountKeys[userId] = new AccountKey(primary.DeviceId, primary.IdentityKey);
            else if (!known.Key.AsSpan().SequenceEqual(primary.IdentityKey))
            {
                // Its own account's key changes only with a new primary, which logs this device out first.
                if (userId == _session.UserId)
                    throw new UntrustedIdentityException(AddressOf(userId, primary.DeviceId), "the directory names another account key for this device's own account");
                _accountKeys[userId] = new AccountKey(primary.DeviceId, primary.IdentityKey);
                changed = true;
            }
        }
        foreach (var device in devices.Where(d => !d.Primary))
            if (device.AccountSignature is not { } signature || !KeySignatures.VerifyDevice(primary.IdentityKey, userId, device.IdentityKey, signature))
                throw new UntrustedIdentityException(AddressOf(userId, device.DeviceId),
                    $"device {device.DeviceId} of {userId} is not endorsed by the account's key: it is not sealed for, nor believed");
        if (changed && !announcing) IdentityChanged?.Invoke(new IdentityChangedFrame(userId, primary.DeviceId));
    }

    /// <summary>One device's identity key, checked against the account key (pinned, or pinned now from the directory's listing).</summary>
    private async Task CheckDeviceAsync(string userId, ListedDevice device, bool announcing, CancellationToken ct)
    {
        AccountKey? known;
        lock (_devicesGate) _accountKeys.TryGetValue(userId, out known);
        // A primary's own key is the account key: a new one is checked with the whole listing, which raises the change.
        if (known is null || device.Primary && !known.Key.AsSpan().SequenceEqual(device.IdentityKey))
        {
            var listing = await _api.GetDeviceIdentitiesAsync(_session.AccessToken, "+" + userId, ct);
            CheckAccount(userId, listing.Devices.Select(Listed).ToList(), announcing);
            lock (_devicesGate) known = _accountKeys.GetValueOrDefault(userId);
            if (known is null) throw new UntrustedIdentityException(AddressOf(userId, device.DeviceId), $"{userId} has no keyed devices in the directory");
        }
        if (device.Primary ? !known.Key.AsSpan().SequenceEqual(device.IdentityKey)
            : device.AccountSignature is not { } signature || !KeySignatures.VerifyDevice(known.Key, userId, device.IdentityKey, signature))
            throw new UntrustedIdentityException(AddressOf(userId, device.DeviceId),
                $"device {device.DeviceId} of {userId} is not endorsed by the account's key: it is not sealed for, nor believed");
    }

    /// <summary>Told of a new identity of a primary device: its next listing is its account key, without a second notice.</summary>
    private void ForgetAccountKeyOf(string userId, int deviceId)
    {
        lock (_devicesGate)
            if (_accountKeys.TryGetValue(userId, out var known) && known.PrimaryDevice == deviceId && userId != _session.UserId)
                _accountKeys.Remove(userId);
    }

    private static ListedDevice Listed(DeviceIdentityView d) => new(d.DeviceId, d.IdentityKey, d.Primary, d.AccountSignature);

    private static ListedDevice Listed(PreKeyBundleView b) => new(b.DeviceId, b.IdentityKey, b.Primary, b.AccountSignature);
}
