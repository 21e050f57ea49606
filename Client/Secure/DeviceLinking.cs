using Natter.Client.Crypto;
using Natter.Messages.Protocol;

namespace Natter.Client.Secure;

/// <summary>
/// A device joining an existing account, end to end encrypted (docs/protocol.md §2.5, docs/e2ee.md §7): its keys are made
/// first, <see cref="LinkCode"/> (shown as a QR code) carries its identity key to the primary device, which endorses it
/// (<see cref="SecureDevice.ApproveLinkAsync"/>), and <see cref="CompleteAsync"/> checks the endorsement before it
/// publishes the keys. The server cannot swap in a key of its own on either side: the primary signs what it scanned,
/// and the account key comes back under a MAC keyed by the code's secret, which the server never sees.
/// </summary>
public sealed class DeviceLinking
{
    private readonly NatterHttpClient _api;
    private readonly LinkRequest _request;
    private readonly DeviceLinkCode _code;
    private readonly DeviceKeys _keys;

    private DeviceLinking(NatterHttpClient api, LinkRequest request, DeviceKeys keys)
    {
        _api = api;
        _request = request;
        _keys = keys;
        _code = DeviceLinkCode.For(request.LinkId, request.ApprovalCode, keys.Identity.IdentityKey);
    }

    /// <summary>What the primary device scans: "natter-link-v1:…". It holds a secret: show it, never send it anywhere.</summary>
    public string LinkCode => _code.ToString();

    public string LinkId => _request.LinkId;

    /// <summary>The approval must come before this; the approval then gives as long again to complete.</summary>
    public DateTimeOffset ExpiresAt => _request.ExpiresAt;

    /// <summary>Makes this device's keys and asks to join the account of <paramref name="phone"/>.</summary>
    public static async Task<DeviceLinking> RequestAsync(NatterHttpClient api, string phone, string deviceName, int oneTimePreKeys = 20, CancellationToken ct = default)
    {
        var keys = DeviceKeys.Generate(oneTimePreKeys);
        return new DeviceLinking(api, await api.RequestLinkAsync(phone, deviceName, ct), keys);
    }

    /// <summary>
    /// The linked device, its keys published, once the primary approved; null while it has not (ask again in a few seconds).
    /// Throws <see cref="UntrustedIdentityException"/> when the approval carries no endorsement of this device's key, or one
    /// that does not check: then the device has a session but no keys, and is removed or linked again.
    /// </summary>
    public async Task<SecureDevice?> TryCompleteAsync(CancellationToken ct = default)
    {
        DeviceSession session;
        try
        {
            session = await _api.CompleteLinkAsync(_request.LinkId, _request.DeviceSecret, ct);
        }
        catch (NatterApiException e) when (e.Code == ErrorCodes.LinkPending)
        {
            return null;
        }
        var address = new DeviceAddress(session.UserId, session.DeviceId.ToString());
        if (session.Endorsement is not { } endorsement)
            throw new UntrustedIdentityException(address, "the primary approved this device without endorsing its keys (it does not encrypt end to end)");
        if (!_code.Verifies(endorsement.AccountKey, endorsement.LinkMac))
            throw new UntrustedIdentityException(address, "the account key did not come from the device that scanned this link code");
        if (!KeySignatures.VerifyDevice(endorsement.AccountKey, session.UserId, _keys.Identity.IdentityKey, endorsement.Signature))
            throw new UntrustedIdentityException(address, "the account key's endorsement is not of this device's identity key");
        return await SecureDevice.StartAsync(_api, session, _keys, new SecureDevice.AccountKey(null, endorsement.AccountKey), ct);
    }

    /// <summary>Waits for the approval, asking every <paramref name="every"/> (2 s by default), until <see cref="ExpiresAt"/> or <paramref name="ct"/>.</summary>
    public async Task<SecureDevice> CompleteAsync(TimeSpan? every = null, CancellationToken ct = default)
    {
        while (true)
        {
            if (await TryCompleteAsync(ct) is { } device) return device;
            await Task.Delay(every ?? TimeSpan.FromSeconds(2), ct);
        }
    }
}
