namespace Natter.Client.Crypto;

/// <summary>
/// One device's end-to-end encryption: its keys, a session per remote device and the verified identity
/// each session is bound to. Transport-agnostic: it turns plaintext into a body plus per-device envelopes
/// and back; fetching bundles and delivering bytes is the caller's job. Thread-safe.
/// </summary>
public sealed class E2eeDevice
{
    private const byte StateVersion = 1;

    private readonly object _gate = new();
    private readonly Dictionary<DeviceAddress, SessionRecord> _sessions = new();
    private readonly Dictionary<DeviceAddress, DeviceIdentity> _identities = new();
    private readonly Func<X25519KeyPair> _newKeyPair;

    public E2eeDevice(DeviceAddress address, DeviceKeys keys) : this(address, keys, X25519KeyPair.Generate) { }

    /// <summary>With the key pairs for X3DH and the ratchet coming from <paramref name="newKeyPair"/> (fixed keys for test vectors).</summary>
    internal E2eeDevice(DeviceAddress address, DeviceKeys keys, Func<X25519KeyPair> newKeyPair)
    {
        Address = address;
        Keys = keys;
        _newKeyPair = newKeyPair;
    }

    public DeviceAddress Address { get; }

    /// <summary>The device's keys, to publish their public halves. Change them through this class, which serializes access.</summary>
    public DeviceKeys Keys { get; }

    /// <summary>More one-time prekeys to publish (when the directory says they run low).</summary>
    public IReadOnlyList<OneTimePreKeyPair> NewOneTimePreKeys(int count)
    {
        lock (_gate) return Keys.NewOneTimePreKeys(count);
    }

    /// <summary>A new signed prekey to publish; the previous one still opens late prekey messages.</summary>
    public SignedPreKeyPair RotateSignedPreKey()
    {
        lock (_gate) return Keys.RotateSignedPreKey();
    }

    /// <summary>
    /// Drops the sessions with a device and its known identity: after it was removed, or reinstalled with a new
    /// identity (the directory's identity_changed notice). The next send needs a fresh bundle.
    /// </summary>
    public void ForgetDevice(DeviceAddress device)
    {
        lock (_gate)
        {
            _sessions.Remove(device);
            _identities.Remove(device);
        }
    }

    public bool HasSession(DeviceAddress device)
    {
        lock (_gate) return HasSessionLocked(device);
    }

    /// <summary>The verified identity the sessions with <paramref name="device"/> are bound to, for safety numbers.</summary>
    public DeviceIdentity? IdentityOf(DeviceAddress device)
    {
        lock (_gate) return _identities.GetValueOrDefault(device);
    }

    /// <summary>Of these devices, those that need a prekey bundle before anything can be sealed for them.</summary>
    public IReadOnlyList<DeviceAddress> WithoutSession(IEnumerable<DeviceAddress> devices)
    {
        lock (_gate) return devices.Where(d => d != Address && !HasSessionLocked(d)).Distinct().ToList();
    }

    /// <summary>
    /// Encrypts the body once and its content key for every device in <paramref name="devices"/> and every
    /// bundle's device. A bundle starts a session where none exists (and is ignored otherwise); a device with
    /// neither is a <see cref="MissingSessionException"/>. This device itself is skipped. Nothing changes unless all is well.
    /// </summary>
    public SealedMessage Seal(string chatId, byte[] plaintext, IEnumerable<DeviceAddress> devices, IEnumerable<DevicePreKeyBundle>? bundles = null)
    {
        lock (_gate)
        {
            var bundleList = (bundles ?? []).Where(b => b.Address != Address).ToList();
            var targets = devices.Concat(bundleList.Select(b => b.Address)).Where(d => d != Address).Distinct().ToList();
            StartSessions(bundleList, targets);
            var (body, contentKey) = MessageBody.Encrypt(chatId, plaintext);
            var sealedKey = MessageKeys.Seal(contentKey, body);
            var envelopes = targets.ToDictionary(d => d, d => Envelope.Seal(_sessions[d].Current!, sealedKey));
            return new SealedMessage(body, envelopes);
        }
    }

    /// <summary>Opens a message: the envelope (sealed for this device by <paramref name="fromUserId"/>/<paramref name="fromDeviceId"/>), then the body.</summary>
    /// <param name="senderIdentity">
    /// The sender device's identity from the key directory, needed when the envelope sets up a new session with a
    /// device whose identity is not known yet (or changed); otherwise the one already known is used.
    /// </param>
    public byte[] Open(string chatId, byte[] body, byte[] envelope, string fromUserId, string fromDeviceId, DeviceIdentity? senderIdentity = null)
    {
        lock (_gate)
        {
            var from = new DeviceAddress(fromUserId, fromDeviceId);
            var opened = Prepare(envelope, from, senderIdentity, MessageKeys.Size);
            var plaintext = MessageBody.Decrypt(chatId, body, MessageKeys.Open(opened.Plaintext, body));
            opened.Commit();
            return plaintext;
        }
    }

    /// <summary>
    /// Seals a message's content key for one device, bound to the message's <paramref name="body"/> (docs/e2ee.md §4):
    /// whoever else holds the key cannot pass another body off as this sender's.
    /// </summary>
    public byte[] SealContentKey(byte[] contentKey, byte[] body, DeviceAddress device, DevicePreKeyBundle? bundle = null) =>
        SealContentKeyFor(contentKey, body, device, bundle).Envelope;

    /// <summary>
    /// As <see cref="SealContentKey"/>, with the identity key of the session it was sealed in: what a sealed send names
    /// (the envelope's identity tag), so the server can refuse it if that device has replaced its keys since.
    /// </summary>
    public (byte[] Envelope, byte[] SealedFor) SealContentKeyFor(byte[] contentKey, byte[] body, DeviceAddress device, DevicePreKeyBundle? bundle = null)
    {
        if (device == Address) throw new ArgumentException("A device has no session with itself.", nameof(device));
        if (bundle is not null && bundle.Address != device) throw new ArgumentException("The bundle is for another device.", nameof(bundle));
        var sealedKey = MessageKeys.Seal(contentKey, body);
        lock (_gate)
        {
            StartSessions(bundle is null ? [] : [bundle], [device]);
            var session = _sessions[device].Current!;
            return (Envelope.Seal(session, sealedKey), session.RemoteIdentityKey);
        }
    }

    /// <summary>
    /// The content key in a message's envelope from <paramref name="from"/>, once the envelope is shown to be for
    /// this <paramref name="body"/>; nothing changes when it is not (<see cref="InvalidMessageException"/>).
    /// </summary>
    public byte[] OpenContentKey(byte[] envelope, byte[] body, DeviceAddress from, DeviceIdentity? senderIdentity = null)
    {
        lock (_gate)
        {
            var opened = Prepare(envelope, from, senderIdentity, MessageKeys.Size);
            var contentKey = MessageKeys.Open(opened.Plaintext, body);
            opened.Commit();
            return contentKey;
        }
    }

    /// <summary>Seals a 32-byte key for one device: history transfer seals the key of its archive for a new device.</summary>
    public byte[] SealKey(byte[] contentKey, DeviceAddress device, DevicePreKeyBundle? bundle = null)
    {
        if (contentKey.Length != MessageBody.ContentKeySize) throw new ArgumentException("A content key is 32 bytes.", nameof(contentKey));
        if (device == Address) throw new ArgumentException("A device has no session with itself.", nameof(device));
        if (bundle is not null && bundle.Address != device) throw new ArgumentException("The bundle is for another device.", nameof(bundle));
        lock (_gate)
        {
            StartSessions(bundle is null ? [] : [bundle], [device]);
            return Envelope.Seal(_sessions[device].Current!, contentKey);
        }
    }

    /// <summary>The 32-byte key in an envelope from <paramref name="from"/> made by <see cref="SealKey"/>.</summary>
    public byte[] OpenKey(byte[] envelope, DeviceAddress from, DeviceIdentity? senderIdentity = null)
    {
        lock (_gate)
        {
            var opened = Prepare(envelope, from, senderIdentity, MessageBody.ContentKeySize);
            opened.Commit();
            return opened.Plaintext;
        }
    }

    /// <summary>Keys, sessions and known identities, to persist the device; as secret as the keys.</summary>
    public byte[] Export()
    {
        lock (_gate)
        {
            var writer = new StateWriter().Byte(StateVersion).String(Address.UserId).String(Address.DeviceId).Blob(Keys.Export());
            writer.U32((uint)_sessions.Count);
            foreach (var (device, record) in _sessions) writer.String(device.UserId).String(device.DeviceId).Blob(record.Export());
            writer.U32((uint)_identities.Count);
            foreach (var (device, identity) in _identities)
                writer.String(device.UserId).String(device.DeviceId)
                    .Blob(identity.IdentityKey).Blob(identity.IdentityDhKey).Blob(identity.IdentityDhSignature);
            return writer.ToArray();
        }
    }

    public static E2eeDevice Import(byte[] state) => Import(state, X25519KeyPair.Generate);

    internal static E2eeDevice Import(byte[] state, Func<X25519KeyPair> newKeyPair)
    {
        var reader = new StateReader(state);
        reader.ExpectVersion(StateVersion, "device");
        var device = new E2eeDevice(new DeviceAddress(reader.String(), reader.String()), DeviceKeys.Import(reader.Blob()), newKeyPair);
        for (var count = reader.U32(); count > 0; count--)
            device._sessions[new DeviceAddress(reader.String(), reader.String())] = SessionRecord.Import(reader.Blob(), newKeyPair);
        for (var count = reader.U32(); count > 0; count--)
            device._identities[new DeviceAddress(reader.String(), reader.String())] = new DeviceIdentity(reader.Blob(), reader.Blob(), reader.Blob());
        reader.ExpectEnd();
        return device;
    }

    private bool HasSessionLocked(DeviceAddress device) => _sessions.TryGetValue(device, out var record) && record.HasSession;

    /// <summary>Sessions from bundles, for targets without one. Everything is checked before anything is kept.</summary>
    private void StartSessions(IReadOnlyList<DevicePreKeyBundle> bundles, IReadOnlyList<DeviceAddress> targets)
    {
        var started = new Dictionary<DeviceAddress, (RatchetSession Session, DeviceIdentity Identity)>();
        foreach (var bundle in bundles)
        {
            if (HasSessionLocked(bundle.Address) || started.ContainsKey(bundle.Address)) continue;
            started[bundle.Address] = (RatchetSession.Initiate(Keys.Identity, bundle, _newKeyPair), bundle.Identity);
        }
        var missing = targets.Where(d => !HasSessionLocked(d) && !started.ContainsKey(d)).ToList();
        if (missing.Count > 0) throw new MissingSessionException(missing);
        foreach (var (device, (session, identity)) in started)
        {
            RecordOf(device).Promote(null, session);
            _identities[device] = identity;
        }
    }

    /// <param name="plaintextLength">What the envelope must hold: a message's content key and body hash, or a bare key.</param>
    private OpenedEnvelope Prepare(byte[] envelope, DeviceAddress from, DeviceIdentity? senderIdentity, int plaintextLength)
    {
        var identity = senderIdentity ?? _identities.GetValueOrDefault(from);
        var record = _sessions.GetValueOrDefault(from) ?? new SessionRecord();
        OpenedEnvelope opened;
        try
        {
            opened = Envelope.Prepare(record, Keys, envelope, identity, _newKeyPair);
        }
        catch (UntrustedIdentityException e)
        {
            throw new UntrustedIdentityException(from, $"{from}: {e.Message} Fetch its identity from the key directory and open again.");
        }
        if (opened.Plaintext.Length != plaintextLength) throw new InvalidMessageException($"This envelope should hold {plaintextLength} bytes.");
        return new OpenedEnvelope(opened.Plaintext, opened.SetUpSession, () =>
        {
            opened.Commit();
            _sessions[from] = record;
            if (opened.SetUpSession) _identities[from] = identity!;
        });
    }

    private SessionRecord RecordOf(DeviceAddress device)
    {
        if (!_sessions.TryGetValue(device, out var record)) _sessions[device] = record = new SessionRecord();
        return record;
    }
}
