using System.Collections.Concurrent;
using System.Text.Json;
using Natter.Client.Crypto;
using Natter.Messages.Protocol;

namespace Natter.Client.Secure;

/// <summary>
/// Saving a device across runs of the app: without it every start would be a new identity for the same device
/// id (contacts told of an identity change, earlier messages unreadable). The saved state is as secret as the
/// keys: an app keeps it in the platform's protected storage, never on the server.
/// </summary>
public sealed partial class SecureDevice
{
    private const int SavedVersion = 1;

    private sealed record SavedOutgoing(string ChatId, string ClientMsgId, byte[] Body, byte[] ContentKey);

    private sealed record SavedTransfer(long MessageId, string MediaId, byte[] Key);

    private sealed record SavedState(int Version, string UserId, int DeviceId, byte[] Crypto, Dictionary<string, int[]> Devices,
        IReadOnlyList<HistoryEntry> ContentKeys, IReadOnlyList<SavedOutgoing> Outgoing, IReadOnlyList<SavedTransfer> OpenedTransfers,
        bool ContentKeysApart = false, Dictionary<string, SavedAccountKey>? AccountKeys = null, long? HighestListVersion = null);

    /// <summary>An account key as pinned, with the newest signed device list seen under it (states of earlier versions have none).</summary>
    private sealed record SavedAccountKey(int? PrimaryDevice, byte[] Key, long? ListVersion = null, IReadOnlyList<byte[]>? ListKeys = null,
        bool Replaced = false)
    {
        public AccountKey ToPin() => new(PrimaryDevice, Key, ListVersion is { } v && ListKeys is not null ? new PinnedList(v, ListKeys) : null, Replaced);

        public static SavedAccountKey Of(AccountKey pin) => new(pin.PrimaryDevice, pin.Key, pin.List?.Version, pin.List?.Keys, pin.Replaced);
    }

    // Keys kept since the last save, for ContentKeysAdded (drained under _opening, by the one saving).
    private readonly ConcurrentQueue<SavedContentKey> _unsavedKeys = new();

    // Under _opening: whether the app's key store has every key held (false until a first hand-over of them all),
    // and a batch whose hand-over threw, handed again at the next save.
    private bool _keysStoredApart;
    private List<SavedContentKey>? _unhanded;

    /// <summary>
    /// Set it to save content keys incrementally, for a device whose history is long: every key this device comes to
    /// hold (a send acknowledged, an envelope opened, a history transfer or a backup restored) is handed here, always
    /// before the <see cref="StateChanged"/> that follows, which then carries no content keys at all (its size no longer
    /// grows with the history). An app appends them to a store of its own (a key may come twice: keep one per chat and
    /// seq) and restores with <see cref="Restore(NatterHttpClient, DeviceSession, byte[], IEnumerable{SavedContentKey})"/>.
    /// The first save after it is set hands over every key the device holds (a device restored from a whole state
    /// moves its keys to the store that way). Like <see cref="StateChanged"/>, the callback must not call back into
    /// this device; should it throw, the same keys are handed again at the next save.
    /// </summary>
    public Action<IReadOnlyList<SavedContentKey>>? ContentKeysAdded { get; set; }

    private void KeepContentKey(string chatId, long seq, byte[] key)
    {
        // The first key kept for a seq stays (a later resend with another body is answered with the stored one's seq).
        // Queued only for an app that stores keys apart (one setting it later gets every key at its next save).
        if (_contentKeys.TryAdd((chatId, seq), key) && ContentKeysAdded is not null) _unsavedKeys.Enqueue(new SavedContentKey(chatId, seq, key));
    }

    /// <summary>
    /// Called with the device's state (what <see cref="Export"/> returns) whenever a restore must not miss the change:
    /// after a send or a history transfer is sealed and before it leaves, after a send's ack, after an envelope or a
    /// history transfer is opened, after new one-time prekeys are made (before they are published), and after keys
    /// are learned. Save <see cref="Export"/> once after <see cref="CreateAsync"/>, before setting this. An app writes it to protected storage before returning. Restoring any state older than the last
    /// one written would seal with message keys already used (the same key and nonce for another plaintext), so only
    /// the latest may ever be restored. The state holds every content key the device keeps, so it grows with the
    /// history it has read and each call serializes it whole, unless <see cref="ContentKeysAdded"/> takes the keys
    /// apart. The callback must not call back into this device.
    /// </summary>
    public Action<byte[]>? StateChanged { get; set; }

    /// <summary>
    /// This device's state: keys, sessions, known identities and devices, the content keys it holds, sends not yet
    /// acknowledged and history transfers opened but not yet taken. Consistent with opens in progress (it waits for
    /// them). To keep it current, use <see cref="StateChanged"/> rather than saving now and then.
    /// </summary>
    public byte[] Export()
    {
        _opening.Wait();
        try
        {
            return ExportLocked(withContentKeys: true);
        }
        finally
        {
            _opening.Release();
        }
    }

    private void OnStateChangedLocked()
    {
        var keysAdded = ContentKeysAdded;
        if (keysAdded is null)
        {
            _keysStoredApart = false;
            _unsavedKeys.Clear();
            StateChanged?.Invoke(ExportLocked(withContentKeys: true));
            return;
        }
        // The state first, then the keys to hand: a send acknowledged meanwhile is then in the state, or its key among
        // the keys (it is queued before the send leaves the unacknowledged ones). The keys go out before the state: a
        // state saved without a key, then a crash, would leave an opened envelope's key nowhere.
        var state = ExportLocked(withContentKeys: false);
        var batch = _unhanded ?? [];
        if (!_keysStoredApart)
        {
            _unsavedKeys.Clear();
            batch = _contentKeys.Select(kv => new SavedContentKey(kv.Key.ChatId, kv.Key.Seq, kv.Value)).ToList();
        }
        while (_unsavedKeys.TryDequeue(out var key)) batch.Add(key);
        if (batch.Count > 0)
        {
            _unhanded = batch;
            keysAdded(batch);
        }
        _unhanded = null;
        _keysStoredApart = true;
        StateChanged?.Invoke(state);
    }

    private async Task OnStateChangedAsync(CancellationToken ct)
    {
        if (StateChanged is null && ContentKeysAdded is null) return;
        await _opening.WaitAsync(ct);
        try
        {
            OnStateChangedLocked();
        }
        finally
        {
            _opening.Release();
        }
    }

    /// <summary>The state; the caller holds <c>_opening</c>, so no open is half done.</summary>
    private byte[] ExportLocked(bool withContentKeys)
    {
        // Sends before keys: an acknowledged send moves from the one to the other, and must be in at least one.
        var outgoing = _outgoing.Select(kv => new SavedOutgoing(kv.Key.ChatId, kv.Key.ClientMsgId, kv.Value.Body, kv.Value.ContentKey)).ToList();
        var keys = withContentKeys ? _contentKeys.Select(kv => new HistoryEntry(kv.Key.ChatId, kv.Key.Seq, kv.Value)).ToList() : [];
        Dictionary<string, int[]> devices;
        Dictionary<string, SavedAccountKey> accountKeys;
        long highestListVersion;
        lock (_devicesGate)
        {
            devices = _devices.ToDictionary(kv => kv.Key, kv => kv.Value.Order().ToArray());
            accountKeys = _accountKeys.ToDictionary(kv => kv.Key, kv => SavedAccountKey.Of(kv.Value));
            highestListVersion = _highestListVersion;
        }
        var state = new SavedState(SavedVersion, _session.UserId, _session.DeviceId, _crypto.Export(), devices, keys, outgoing,
            _openedTransfers.Select(kv => new SavedTransfer(kv.Key, kv.Value.MediaId, kv.Value.Key)).ToList(), ContentKeysApart: !withContentKeys,
            accountKeys, highestListVersion > 0 ? highestListVersion : null);
        return JsonSerializer.SerializeToUtf8Bytes(state, ProtocolJson.Options);
    }

    /// <summary>
    /// The device saved by <see cref="Export"/>, carrying on with <paramref name="session"/>, a session of the same
    /// device (a newer access token is fine). Publishes nothing: the directory already has its keys.
    /// </summary>
    public static SecureDevice Restore(NatterHttpClient api, DeviceSession session, byte[] saved) => Restore(api, session, saved, []);

    /// <summary>
    /// As <see cref="Restore(NatterHttpClient, DeviceSession, byte[])"/>, with the content keys an app saved
    /// incrementally (<see cref="ContentKeysAdded"/>) besides the state <see cref="StateChanged"/> last handed it.
    /// </summary>
    public static SecureDevice Restore(NatterHttpClient api, DeviceSession session, byte[] saved, IEnumerable<SavedContentKey> contentKeys)
    {
        SavedState state;
        try
        {
            state = JsonSerializer.Deserialize<SavedState>(saved, ProtocolJson.Options) ?? throw new ArgumentException("No saved device.", nameof(saved));
        }
        catch (JsonException e)
        {
            throw new ArgumentException("Not a saved device.", nameof(saved), e);
        }
        if (state.Version != SavedVersion) throw new ArgumentException($"A saved device of version {state.Version}; this client reads {SavedVersion}.", nameof(saved));
        if (state.UserId != session.UserId || state.DeviceId != session.DeviceId)
            throw new ArgumentException($"This is device {state.DeviceId} of {state.UserId}, not device {session.DeviceId} of {session.UserId}.", nameof(session));

        // A state written with ContentKeysAdded carries none: restored without the app's keys it would read no history.
        var apart = contentKeys.ToList();
        if (state.ContentKeysApart && apart.Count == 0)
            throw new ArgumentException("This state's content keys were saved apart (ContentKeysAdded): pass them to Restore.", nameof(contentKeys));

        var device = new SecureDevice(api, session, E2eeDevice.Import(state.Crypto));
        // A state saved before account keys were kept: device lists and account keys are learned again from the directory,
        // checked, as on a first contact (this device's own account key too, unless it is the primary).
        if (state.AccountKeys is { } accountKeys)
        {
            foreach (var (user, ids) in state.Devices) device._devices[user] = ids.ToHashSet();
            foreach (var (user, key) in accountKeys) device._accountKeys[user] = key.ToPin();
        }
        device._highestListVersion = state.HighestListVersion ?? 0;
        foreach (var entry in state.ContentKeys) device._contentKeys[(entry.ChatId, entry.Seq)] = entry.Key;
        foreach (var entry in apart) device._contentKeys.TryAdd((entry.ChatId, entry.Seq), entry.Key);
        // Keys that came from the app's store are there already; a whole state's are handed over at the first save.
        device._keysStoredApart = apart.Count > 0 && state.ContentKeys.Count == 0;
        foreach (var send in state.Outgoing) device._outgoing[(send.ChatId, send.ClientMsgId)] = (send.Body, send.ContentKey);
        foreach (var transfer in state.OpenedTransfers) device._openedTransfers[transfer.MessageId] = (transfer.MediaId, transfer.Key);
        return device;
    }
}

/// <summary>One message's content key, as <see cref="SecureDevice.ContentKeysAdded"/> hands it to be saved.</summary>
public sealed record SavedContentKey(string ChatId, long Seq, byte[] Key);
