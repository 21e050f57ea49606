using System.Collections.Concurrent;
using System.Security.Cryptography;
using Natter.Client.Crypto;
using Natter.Messages.Protocol;

namespace Natter.Client.Secure;

/// <summary>
/// One device's end-to-end encryption over Natter (docs/e2ee.md): publishes its keys, seals each send for
/// every keyed device of the chat's members (refreshing its device lists on <c>stale_devices</c>), opens
/// what arrives, and transfers the content keys of past messages to a newly linked device of the account.
/// The server sees bodies, envelopes and ciphertext only.
/// </summary>
public sealed partial class SecureDevice
{
    private readonly NatterHttpClient _api;
    private readonly DeviceSession _session;
    private readonly E2eeDevice _crypto;
    // The keyed devices of each user as far as this device knows; corrected by the server's stale_devices.
    // Guarded by _devicesGate: sends on several tasks read and correct them.
    private readonly Dictionary<string, HashSet<int>> _devices = new();
    private readonly object _devicesGate = new();
    // A message's body and content key, made once per clientMsgId: a resend must carry the same body, or the
    // key kept for the stored message would be another attempt's.
    private readonly ConcurrentDictionary<(string ChatId, string ClientMsgId), (byte[] Body, byte[] ContentKey)> _outgoing = new();
    // Opening an envelope uses its ratchet key up: one open at a time, and a kept key checked first.
    private readonly SemaphoreSlim _opening = new(1, 1);
    // Content keys of the messages this device sent or opened, by (chatId, seq): what a history transfer carries.
    private readonly ConcurrentDictionary<(string ChatId, long Seq), byte[]> _contentKeys = new();

    private SecureDevice(NatterHttpClient api, DeviceSession session, E2eeDevice crypto)
    {
        _api = api;
        _session = session;
        _crypto = crypto;
    }

    public DeviceAddress Address => _crypto.Address;

    public DeviceSession Session => _session;

    public E2eeDevice Crypto => _crypto;

    /// <summary>
    /// New keys for the primary device of <paramref name="session"/> (registered with its phone number), published to the
    /// key directory; its identity key is the account key. A device linked to an account starts with
    /// <see cref="DeviceLinking.RequestAsync"/> instead: the directory takes its keys only with the primary's endorsement.
    /// </summary>
    public static async Task<SecureDevice> CreateAsync(NatterHttpClient api, DeviceSession session, int oneTimePreKeys = 20, CancellationToken ct = default)
    {
        var keys = DeviceKeys.Generate(oneTimePreKeys);
        return await StartAsync(api, session, keys, new AccountKey(session.DeviceId, keys.Identity.IdentityKey), ct);
    }

    /// <summary>A device with its keys and its own account's key, its keys published.</summary>
    internal static async Task<SecureDevice> StartAsync(NatterHttpClient api, DeviceSession session, DeviceKeys keys, AccountKey accountKey, CancellationToken ct)
    {
        var device = new SecureDevice(api, session, new E2eeDevice(AddressOf(session.UserId, session.DeviceId), keys));
        device._accountKeys[session.UserId] = accountKey;
        await device.PublishAsync(device._crypto.Keys.OneTimePreKeys, ct);
        return device;
    }

    /// <summary>
    /// Raised when this device learns that a contact's device has a new identity key without having been handed the
    /// <c>identity_changed</c> notice (it was offline): a message from the new install opened, or a send was refused
    /// with that device in <c>changed</c>. Show, as for the notice, that the safety number changed; the sessions are
    /// already what they must be, so do NOT call <see cref="OnIdentityChanged"/> (it would drop the session the new
    /// install's next message needs). Called outside this device's locks: once per new identity key it learns of by itself, and
    /// for every <c>stale_devices</c> refusal that names the device (two sends refused at once both raise it).
    /// </summary>
    public Action<IdentityChangedFrame>? IdentityChanged { get; set; }

    /// <summary>
    /// A contact's device published a new identity (an <c>identity_changed</c> frame): its sessions are
    /// dropped, so the next send starts a new one from its new bundle. The safety number with that user changed.
    /// </summary>
    public void OnIdentityChanged(IdentityChangedFrame changed)
    {
        _crypto.ForgetDevice(AddressOf(changed.UserId, changed.DeviceId));
        ForgetAccountKeyOf(changed.UserId, changed.DeviceId);
    }

    /// <summary>Publishes more one-time prekeys (after a <c>prekeys_low</c> frame), saved first: a prekey message to one must open after a restart.</summary>
    public async Task<KeysStatusView> TopUpAsync(int count, CancellationToken ct = default)
    {
        var added = _crypto.NewOneTimePreKeys(count);
        await OnStateChangedAsync(ct);
        return await PublishAsync(added, ct);
    }

    private Task<KeysStatusView> PublishAsync(IEnumerable<OneTimePreKeyPair> oneTimePreKeys, CancellationToken ct) =>
        _api.PublishKeysAsync(_session.AccessToken, _crypto.Keys.PublishRequest(oneTimePreKeys), ct);

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> once and seals its content key for every keyed device of
    /// <paramref name="memberUserIds"/> (this account's other devices included), then sends it. A
    /// <c>stale_devices</c> refusal corrects the device lists and the send is sealed again.
    /// </summary>
    /// <param name="attachment">
    /// An uploaded, already encrypted file (<see cref="EncryptAttachment"/>): only its id, size and type, which the
    /// server needs to authorize downloads; a caption, a thumbnail and the file's key belong in the plaintext.
    /// </param>
    public async Task<AckFrame> SendAsync(NatterConnection connection, string chatId, IReadOnlyCollection<string> memberUserIds, string clientMsgId,
        byte[] plaintext, CancellationToken ct = default, MediaFrame? attachment = null)
    {
        const int attempts = 3;
        var (body, contentKey) = _outgoing.GetOrAdd((chatId, clientMsgId), _ => MessageBody.Encrypt(chatId, plaintext));
        // The server may name members this device did not know of (someone just joined a group).
        var members = new HashSet<string>(memberUserIds) { _session.UserId };
        for (var attempt = 1; ; attempt++)
        {
            var bundles = await LearnDevicesAsync(members, ct);
            List<EnvelopeFrame> envelopes;
            try
            {
                envelopes = Recipients(members).Select(d => Envelope(d, contentKey, body, bundles.GetValueOrDefault(d))).ToList();
            }
            catch (MissingSessionException) when (attempt < attempts)
            {
                // Another send's correction dropped a session this one was about to use: learn it again.
                continue;
            }
            // Sealing used message keys: saved before the envelopes leave, a restart never seals with them again.
            await OnStateChangedAsync(ct);
            try
            {
                var ack = await connection.SendAsync(chatId, clientMsgId, body, ct, media: attachment is null ? null : attachment with { Thumbnail = null, Caption = null },
                    envelopes: envelopes);
                // The first key kept for a seq stays: a later resend with another body is answered with the stored one's seq.
                KeepContentKey(chatId, ack.Seq, contentKey);
                _outgoing.TryRemove((chatId, clientMsgId), out _);
                // The message is stored: the caller's token no longer stops the save of what it changed.
                await OnStateChangedAsync(CancellationToken.None);
                return ack;
            }
            catch (NatterApiException e) when (e.Code == ErrorCodes.StaleDevices && attempt < attempts)
            {
                // Reinstalled since this device sealed for them (it may have been offline when told): new sessions, and
                // raised here, so a new account key among them is not raised again by the check below.
                foreach (var changed in e.Changed)
                {
                    _crypto.ForgetDevice(AddressOf(changed.UserId, changed.DeviceId));
                    ForgetAccountKeyOf(changed.UserId, changed.DeviceId);
                    IdentityChanged?.Invoke(new IdentityChangedFrame(changed.UserId, changed.DeviceId));
                }
                // A device named missing may be one this device still has a session with: checked with its account's
                // listing before the device lists take it (a session for another key than the listed one is dropped).
                foreach (var user in e.Missing.Select(d => d.UserId).Distinct())
                    await CheckMissingAsync(user, e.Missing.Where(d => d.UserId == user).Select(d => d.DeviceId).ToList(), ct);
                Correct(e.Missing, e.Extra);
                members.UnionWith(e.Missing.Select(d => d.UserId));
            }
        }
    }

    /// <summary>The content key sealed for one device, naming the identity key of the session used so the server can refuse an old one.</summary>
    private EnvelopeFrame Envelope(DeviceAddress device, byte[] contentKey, byte[] body, DevicePreKeyBundle? bundle)
    {
        var (data, sealedFor) = _crypto.SealContentKeyFor(contentKey, body, device, bundle);
        return new EnvelopeFrame(device.UserId, int.Parse(device.DeviceId), data, IdentityTags.Of(sealedFor));
    }

    /// <summary>
    /// The plaintext of a message: from its envelope the first time, then from the content key kept for it
    /// (an envelope opens once: its ratchet key is gone after), or from a key a history transfer brought.
    /// </summary>
    public async Task<byte[]> OpenAsync(MessageFrame message, CancellationToken ct = default)
    {
        if (!_contentKeys.TryGetValue((message.ChatId, message.Seq), out var contentKey))
        {
            if (message.Envelope is not { } envelope)
                throw new InvalidMessageException($"no envelope for this device in {message.ChatId}#{message.Seq}, and no content key from a history transfer");
            var from = AddressOf(message.Sender, message.SenderDevice);
            var identity = _crypto.IdentityOf(from) ?? await IdentityAsync(from, ct);
            var (listed, listedRaised) = await ListedIdentityAsync(from, identity, ct);
            try
            {
                contentKey = await OpenContentKeyAsync(message, envelope, from, listed, ct);
                // The session kept was with a key the account's list no longer names, and the directory's (listed) opened it.
                if (!ReferenceEquals(listed, identity) && FirstToRaise(from, listed.IdentityKey) && !listedRaised)
                    IdentityChanged?.Invoke(new IdentityChangedFrame(message.Sender, message.SenderDevice));
            }
            catch (UntrustedIdentityException) when (ReferenceEquals(listed, identity))
            {
                // A new session from a contact who reinstalled, which this device was not told of (it was offline at
                // the identity_changed notice): the directory's identity, if it is another, opens it. The old
                // sessions stay (messages sent before the reinstall still open); the app is told, as by the notice.
                var (current, raised) = await CheckedIdentityAsync(from, ct);
                if (current.IdentityKey.AsSpan().SequenceEqual(identity.IdentityKey)) throw;
                // A new account key was raised already, opened or not; a reinstalled linked device is raised once it opens.
                contentKey = await OpenContentKeyAsync(message, envelope, from, current, ct);
                if (FirstToRaise(from, current.IdentityKey) && !raised) IdentityChanged?.Invoke(new IdentityChangedFrame(message.Sender, message.SenderDevice));
            }
        }
        return MessageBody.Decrypt(message.ChatId, message.Body, contentKey);
    }

    // The identity key a change was last raised for, per device: two messages of a new install opened at once, or a new
    // account key raised by a send before a message of it is opened, raise it once.
    private readonly ConcurrentDictionary<DeviceAddress, byte[]> _reinstallsRaised = new();

    private bool FirstToRaise(DeviceAddress device, byte[] identityKey)
    {
        while (true)
        {
            if (_reinstallsRaised.TryGetValue(device, out var known))
            {
                if (known.AsSpan().SequenceEqual(identityKey)) return false;
                if (_reinstallsRaised.TryUpdate(device, identityKey, known)) return true;
            }
            else if (_reinstallsRaised.TryAdd(device, identityKey)) return true;
        }
    }

    private async Task<byte[]> OpenContentKeyAsync(MessageFrame message, byte[] envelope, DeviceAddress from, DeviceIdentity identity, CancellationToken ct)
    {
        await _opening.WaitAsync(ct);
        try
        {
            // Another task may have opened it meanwhile (a live push and a history page of the same message).
            if (_contentKeys.TryGetValue((message.ChatId, message.Seq), out var contentKey)) return contentKey;
            contentKey = _crypto.OpenContentKey(envelope, message.Body, from, identity);
            KeepContentKey(message.ChatId, message.Seq, contentKey);
            OnStateChangedLocked();
            return contentKey;
        }
        finally
        {
            _opening.Release();
        }
    }

    private List<DeviceAddress> Recipients(IEnumerable<string> memberUserIds)
    {
        lock (_devicesGate)
            return memberUserIds.Append(_session.UserId).Distinct()
                .SelectMany(u => _devices.TryGetValue(u, out var devices) ? devices.Select(d => AddressOf(u, d)) : [])
                .Where(d => d != Address)
                .ToList();
    }

    /// <summary>Device lists of users not seen before, with the bundles that start sessions with them.</summary>
    private async Task<Dictionary<DeviceAddress, DevicePreKeyBundle>> LearnDevicesAsync(IEnumerable<string> userIds, CancellationToken ct)
    {
        var bundles = new Dictionary<DeviceAddress, DevicePreKeyBundle>();
        List<string> unknown;
        lock (_devicesGate) unknown = userIds.Where(u => !_devices.ContainsKey(u)).ToList();
        foreach (var user in unknown)
        {
            UserBundlesView fetched;
            try { fetched = await _api.GetBundlesAsync(_session.AccessToken, "+" + user, ct); }
            catch (NatterApiException e) when (e.Code == ErrorCodes.KeysNotPublished)
            {
                lock (_devicesGate) _devices.TryAdd(user, []);
                continue;
            }
            // A device the account key did not endorse is refused here, before any session with it; a session kept for
            // another key than the one listed (a state older than endorsements, say) is not sealed through.
            var listing = ListingOf(fetched);
            CheckAccount(user, listing);
            ForgetOutdatedSessions(user, listing);
            lock (_devicesGate) _devices[user] = fetched.Devices.Select(b => b.DeviceId).ToHashSet();
            foreach (var bundle in fetched.Devices.Select(BundleOf).Where(b => b.Address != Address && !_crypto.HasSession(b.Address)))
                bundles[bundle.Address] = bundle;
        }
        // Devices added by a correction: one bundle each.
        List<string> known;
        lock (_devicesGate) known = _devices.Keys.ToList();
        foreach (var device in Recipients(known).Where(d => !_crypto.HasSession(d) && !bundles.ContainsKey(d)))
            // Checking one device may pin a newer list that drops another (removed since): that one is not fetched.
            if (StillSealedFor(device)) bundles[device] = await BundleAsync(device, ct);
        return bundles;
    }

    private bool StillSealedFor(DeviceAddress device)
    {
        lock (_devicesGate) return _devices.TryGetValue(device.UserId, out var ids) && ids.Contains(int.Parse(device.DeviceId));
    }

    /// <summary>One device's bundle (a one-time prekey handed out), its identity checked against its account key.</summary>
    private async Task<DevicePreKeyBundle> BundleAsync(DeviceAddress device, CancellationToken ct)
    {
        var view = await _api.GetBundleAsync(_session.AccessToken, "+" + device.UserId, int.Parse(device.DeviceId), ct);
        await CheckDeviceAsync(device.UserId, Listed(view), ct);
        return BundleOf(view);
    }

    /// <summary>Devices the server says a send missed, checked against their account's listing before anything is sealed for them.</summary>
    private async Task CheckMissingAsync(string userId, IReadOnlyList<int> deviceIds, CancellationToken ct)
    {
        var listing = await ListingAsync(userId, ct);
        CheckAccount(userId, listing);
        var unlisted = deviceIds.Where(id => listing.Devices.All(d => d.DeviceId != id)).ToList();
        if (unlisted.Count > 0) throw NotEndorsed(userId, unlisted[0]);
        ForgetOutdatedSessions(userId, listing);
    }

    private void Correct(IReadOnlyList<DeviceRef> missing, IReadOnlyList<DeviceRef> extra)
    {
        lock (_devicesGate)
        {
            foreach (var m in missing)
            {
                if (!_devices.TryGetValue(m.UserId, out var devices)) _devices[m.UserId] = devices = [];
                devices.Add(m.DeviceId);
            }
            foreach (var x in extra)
            {
                if (_devices.TryGetValue(x.UserId, out var devices)) devices.Remove(x.DeviceId);
                // Its session goes too: should it be named again, it starts anew from a bundle checked against its account.
                _crypto.ForgetDevice(AddressOf(x.UserId, x.DeviceId));
            }
        }
    }

    private async Task<DeviceIdentity> IdentityAsync(DeviceAddress device, CancellationToken ct) => (await CheckedIdentityAsync(device, ct)).Identity;

    /// <summary>A sender device's identity from the directory, checked against its account key; whether a new account key was raised.</summary>
    private async Task<(DeviceIdentity Identity, bool Raised)> CheckedIdentityAsync(DeviceAddress device, CancellationToken ct)
    {
        var identities = await _api.GetDeviceIdentitiesAsync(_session.AccessToken, "+" + device.UserId, ct);
        var found = identities.Devices.FirstOrDefault(d => d.DeviceId.ToString() == device.DeviceId)
                    ?? throw new UntrustedIdentityException(device, $"{device} has no keys in the directory");
        // Checked against the listing just fetched, not a second fetch of it.
        var raised = await CheckDeviceAsync(device.UserId, Listed(found), ct, ListingOf(identities));
        return (new DeviceIdentity(found.IdentityKey, found.IdentityDhKey, found.IdentityDhSignature), raised);
    }

    private static DevicePreKeyBundle BundleOf(PreKeyBundleView b) => new(b.UserId, b.DeviceId.ToString(), b.IdentityKey, b.IdentityDhKey,
        b.IdentityDhSignature, b.SignedPreKey.Id, b.SignedPreKey.PublicKey, b.SignedPreKey.Signature, b.OneTimePreKey?.Id, b.OneTimePreKey?.PublicKey);

    private static DeviceAddress AddressOf(string userId, int deviceId) => new(userId, deviceId.ToString());

    /// <summary>Encrypts a file before it is uploaded: the key travels inside the (sealed) message that shares it.</summary>
    public static (byte[] Ciphertext, byte[] Key, string Sha256) EncryptAttachment(byte[] file)
    {
        var (ciphertext, key) = MessageBody.Encrypt("attachment", file);
        return (ciphertext, key, Convert.ToHexStringLower(SHA256.HashData(ciphertext)));
    }

    public static byte[] DecryptAttachment(byte[] ciphertext, byte[] key) => MessageBody.Decrypt("attachment", ciphertext, key);
}
