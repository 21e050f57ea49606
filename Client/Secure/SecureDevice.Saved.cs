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
        IReadOnlyList<HistoryEntry> ContentKeys, IReadOnlyList<SavedOutgoing> Outgoing, IReadOnlyList<SavedTransfer> OpenedTransfers);

    /// <summary>
    /// Called with the device's state (what <see cref="Export"/> returns) whenever a restore must not miss the change:
    /// after a send or a history transfer is sealed and before it leaves, after a send's ack, after an envelope or a
    /// history transfer is opened, after new one-time prekeys are made (before they are published), and after keys
    /// are learned. Save <see cref="Export"/> once after <see cref="CreateAsync"/>, before setting this. An app writes it to protected storage before returning. Restoring any state older than the last
    /// one written would seal with message keys already used (the same key and nonce for another plaintext), so only
    /// the latest may ever be restored. The state holds every content key the device keeps, so it grows with the
    /// history it has read; each call serializes it whole. The callback must not call back into this device.
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
            return ExportLocked();
        }
        finally
        {
            _opening.Release();
        }
    }

    private void OnStateChangedLocked() => StateChanged?.Invoke(ExportLocked());

    private async Task OnStateChangedAsync(CancellationToken ct)
    {
        if (StateChanged is null) return;
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
    private byte[] ExportLocked()
    {
        // Sends before keys: an acknowledged send moves from the one to the other, and must be in at least one.
        var outgoing = _outgoing.Select(kv => new SavedOutgoing(kv.Key.ChatId, kv.Key.ClientMsgId, kv.Value.Body, kv.Value.ContentKey)).ToList();
        var keys = _contentKeys.Select(kv => new HistoryEntry(kv.Key.ChatId, kv.Key.Seq, kv.Value)).ToList();
        Dictionary<string, int[]> devices;
        lock (_devicesGate) devices = _devices.ToDictionary(kv => kv.Key, kv => kv.Value.Order().ToArray());
        var state = new SavedState(SavedVersion, _session.UserId, _session.DeviceId, _crypto.Export(), devices, keys, outgoing,
            _openedTransfers.Select(kv => new SavedTransfer(kv.Key, kv.Value.MediaId, kv.Value.Key)).ToList());
        return JsonSerializer.SerializeToUtf8Bytes(state, ProtocolJson.Options);
    }

    /// <summary>
    /// The device saved by <see cref="Export"/>, carrying on with <paramref name="session"/>, a session of the same
    /// device (a newer access token is fine). Publishes nothing: the directory already has its keys.
    /// </summary>
    public static SecureDevice Restore(NatterHttpClient api, DeviceSession session, byte[] saved)
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

        var device = new SecureDevice(api, session, E2eeDevice.Import(state.Crypto));
        foreach (var (user, ids) in state.Devices) device._devices[user] = ids.ToHashSet();
        foreach (var entry in state.ContentKeys) device._contentKeys[(entry.ChatId, entry.Seq)] = entry.Key;
        foreach (var send in state.Outgoing) device._outgoing[(send.ChatId, send.ClientMsgId)] = (send.Body, send.ContentKey);
        foreach (var transfer in state.OpenedTransfers) device._openedTransfers[transfer.MessageId] = (transfer.MediaId, transfer.Key);
        return device;
    }
}
