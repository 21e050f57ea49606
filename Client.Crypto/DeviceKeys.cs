namespace Natter.Client.Crypto;

/// <summary>
/// Everything secret a device holds for session setup: its identity, the current signed prekey (and the
/// previous one, for initiators that fetched a bundle just before a rotation) and the unused one-time prekeys.
/// Not thread-safe: <see cref="E2eeDevice"/> serializes access.
/// </summary>
public sealed class DeviceKeys
{
    private const byte StateVersion = 1;

    private readonly SortedDictionary<uint, OneTimePreKeyPair> _oneTimePreKeys = new();

    // Base keys of the sessions set up with each signed prekey still held: a replayed prekey message that named
    // no one-time prekey would otherwise set up a second, identical session.
    private readonly Dictionary<uint, HashSet<string>> _usedBaseKeys = new();

    private uint _nextOneTimePreKeyId;

    private DeviceKeys(IdentityKeyPair identity, SignedPreKeyPair signedPreKey, SignedPreKeyPair? previousSignedPreKey, uint nextOneTimePreKeyId)
    {
        Identity = identity;
        SignedPreKey = signedPreKey;
        PreviousSignedPreKey = previousSignedPreKey;
        _nextOneTimePreKeyId = nextOneTimePreKeyId;
    }

    public IdentityKeyPair Identity { get; }
    public SignedPreKeyPair SignedPreKey { get; private set; }
    public SignedPreKeyPair? PreviousSignedPreKey { get; private set; }
    public IReadOnlyCollection<OneTimePreKeyPair> OneTimePreKeys => _oneTimePreKeys.Values;

    /// <summary>A new identity, signed prekey 1 and <paramref name="oneTimePreKeys"/> one-time prekeys numbered from <paramref name="firstId"/>.</summary>
    public static DeviceKeys Generate(int oneTimePreKeys, uint firstId = 1)
    {
        var identity = IdentityKeyPair.Generate();
        var keys = new DeviceKeys(identity, SignedPreKeyPair.Generate(1, identity), null, firstId);
        keys.NewOneTimePreKeys(oneTimePreKeys);
        return keys;
    }

    /// <summary>From given keys (fixed keys in tests, or keys made elsewhere); the signed prekey must be signed by the identity.</summary>
    public static DeviceKeys FromKeys(IdentityKeyPair identity, SignedPreKeyPair signedPreKey, IEnumerable<OneTimePreKeyPair>? oneTimePreKeys = null)
    {
        if (!KeySignatures.VerifySignedPreKey(identity.IdentityKey, signedPreKey.Id, signedPreKey.PublicKey, signedPreKey.Signature))
            throw new ArgumentException("The signed prekey is not signed by this identity.", nameof(signedPreKey));
        var keys = new DeviceKeys(identity, signedPreKey, null, 1);
        foreach (var key in oneTimePreKeys ?? []) keys.Add(key);
        return keys;
    }

    /// <summary>More one-time prekeys, ids continuing after the highest so far: publish their public halves.</summary>
    public IReadOnlyList<OneTimePreKeyPair> NewOneTimePreKeys(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var created = new List<OneTimePreKeyPair>(count);
        for (var i = 0; i < count; i++)
        {
            var key = OneTimePreKeyPair.Generate(_nextOneTimePreKeyId);
            Add(key);
            created.Add(key);
        }
        return created;
    }

    /// <summary>A new signed prekey; the current one stays usable as the previous one, the one before is forgotten.</summary>
    public SignedPreKeyPair RotateSignedPreKey()
    {
        if (PreviousSignedPreKey is { } forgotten) _usedBaseKeys.Remove(forgotten.Id);
        PreviousSignedPreKey = SignedPreKey;
        SignedPreKey = SignedPreKeyPair.Generate(unchecked(SignedPreKey.Id + 1), Identity);
        return SignedPreKey;
    }

    /// <summary>This device's public bundle, as the key directory would hand it out (with the given one-time prekey, if any).</summary>
    public DevicePreKeyBundle ToBundle(string userId, string deviceId, uint? oneTimePreKeyId = null)
    {
        var oneTime = oneTimePreKeyId is { } id
            ? FindOneTimePreKey(id) ?? throw new ArgumentException($"No one-time prekey {id}.", nameof(oneTimePreKeyId))
            : null;
        return new DevicePreKeyBundle(userId, deviceId, Identity.IdentityKey, Identity.IdentityDhKey.PublicKey, Identity.IdentityDhSignature,
            SignedPreKey.Id, SignedPreKey.PublicKey, SignedPreKey.Signature, oneTime?.Id, oneTime?.PublicKey);
    }

    internal SignedPreKeyPair? FindSignedPreKey(uint id) =>
        SignedPreKey.Id == id ? SignedPreKey : PreviousSignedPreKey?.Id == id ? PreviousSignedPreKey : null;

    internal OneTimePreKeyPair? FindOneTimePreKey(uint id) => _oneTimePreKeys.GetValueOrDefault(id);

    internal bool WasUsed(uint signedPreKeyId, byte[] baseKey) =>
        _usedBaseKeys.TryGetValue(signedPreKeyId, out var used) && used.Contains(Convert.ToHexString(baseKey));

    /// <summary>After a session was set up: the one-time prekey is deleted and the base key remembered.</summary>
    internal void MarkUsed(uint signedPreKeyId, uint? oneTimePreKeyId, byte[] baseKey)
    {
        if (oneTimePreKeyId is { } id) _oneTimePreKeys.Remove(id);
        if (!_usedBaseKeys.TryGetValue(signedPreKeyId, out var used)) _usedBaseKeys[signedPreKeyId] = used = new HashSet<string>();
        used.Add(Convert.ToHexString(baseKey));
    }

    /// <summary>All private keys and bookkeeping, to persist the device; keep it as secret as the keys.</summary>
    public byte[] Export()
    {
        var writer = new StateWriter().Byte(StateVersion).Fixed(Identity.Export());
        WriteSignedPreKey(writer, SignedPreKey);
        writer.Flag(PreviousSignedPreKey is not null);
        if (PreviousSignedPreKey is not null) WriteSignedPreKey(writer, PreviousSignedPreKey);
        writer.U32(_nextOneTimePreKeyId).U32((uint)_oneTimePreKeys.Count);
        foreach (var key in _oneTimePreKeys.Values) writer.U32(key.Id).Fixed(key.KeyPair.PrivateKey);
        writer.U32((uint)_usedBaseKeys.Count);
        foreach (var (signedPreKeyId, baseKeys) in _usedBaseKeys)
        {
            writer.U32(signedPreKeyId).U32((uint)baseKeys.Count);
            foreach (var baseKey in baseKeys) writer.Fixed(Convert.FromHexString(baseKey));
        }
        return writer.ToArray();
    }

    public static DeviceKeys Import(byte[] state)
    {
        var reader = new StateReader(state);
        reader.ExpectVersion(StateVersion, "device keys");
        var identity = IdentityKeyPair.Import(reader.Fixed(64));
        var signedPreKey = ReadSignedPreKey(reader, identity);
        var previous = reader.Flag() ? ReadSignedPreKey(reader, identity) : null;
        var keys = new DeviceKeys(identity, signedPreKey, previous, reader.U32());
        for (var count = reader.U32(); count > 0; count--) keys.Add(OneTimePreKeyPair.FromPrivate(reader.U32(), reader.Fixed(32)));
        for (var count = reader.U32(); count > 0; count--)
        {
            var used = keys._usedBaseKeys[reader.U32()] = new HashSet<string>();
            for (var keyCount = reader.U32(); keyCount > 0; keyCount--) used.Add(Convert.ToHexString(reader.Fixed(32)));
        }
        reader.ExpectEnd();
        return keys;
    }

    private void Add(OneTimePreKeyPair key)
    {
        if (!_oneTimePreKeys.TryAdd(key.Id, key)) throw new ArgumentException($"One-time prekey id {key.Id} is taken.");
        _nextOneTimePreKeyId = Math.Max(_nextOneTimePreKeyId, key.Id + 1);
    }

    private static void WriteSignedPreKey(StateWriter writer, SignedPreKeyPair key) => writer.U32(key.Id).Fixed(key.KeyPair.PrivateKey);

    // The signature is deterministic (Ed25519), so it is recomputed rather than stored.
    private static SignedPreKeyPair ReadSignedPreKey(StateReader reader, IdentityKeyPair identity) =>
        SignedPreKeyPair.FromPrivate(reader.U32(), reader.Fixed(32), identity);
}
