using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Natter.Client.Crypto;
using Natter.Messages.Protocol;

namespace Natter.Client.Secure;

/// <summary>
/// History transfer (docs/e2ee.md §history): an existing device re-wraps the content keys it holds for a
/// newly linked device of the same account. The keys go, encrypted under a fresh key, into a blob uploaded
/// like any media; that key is sealed through the pairwise session and relayed by the device inbox. The
/// bodies themselves are already on the server, stored once; the new device fetches and opens them.
/// </summary>
public sealed partial class SecureDevice
{
    private const string HistoryContext = "natter-history-v1";

    private sealed record HistoryEntry(string ChatId, long Seq, byte[] Key);

    private sealed record HistoryPointer(string MediaId, byte[] Envelope);

    /// <summary>Sends every content key this device holds to <paramref name="toDevice"/> of the same account.</summary>
    public async Task<int> SendHistoryAsync(int toDevice, CancellationToken ct = default)
    {
        var entries = _contentKeys.Select(kv => new HistoryEntry(kv.Key.ChatId, kv.Key.Seq, kv.Value)).OrderBy(e => e.ChatId).ThenBy(e => e.Seq).ToList();
        var (archive, archiveKey) = MessageBody.Encrypt(HistoryContext, JsonSerializer.SerializeToUtf8Bytes(entries, ProtocolJson.Options));
        var stored = await _api.UploadMediaAsync(_session.AccessToken, new MemoryStream(archive), "application/octet-stream",
            Convert.ToHexStringLower(SHA256.HashData(archive)), ct);

        var target = AddressOf(_session.UserId, toDevice);
        var bundle = _crypto.HasSession(target) ? null : await BundleAsync(target, ct);
        var pointer = new HistoryPointer(stored.Id, _crypto.SealKey(archiveKey, target, bundle));
        // Sealing used a message key: saved before the envelope leaves, like a send's.
        await OnStateChangedAsync(ct);
        await _api.SendDeviceMessageAsync(_session.AccessToken, toDevice, JsonSerializer.SerializeToUtf8Bytes(pointer, ProtocolJson.Options), ct);
        return entries.Count;
    }

    // Archive keys of inbox messages opened but not yet acknowledged: an envelope opens only once, so a
    // download that failed is retried with the key kept here.
    private readonly ConcurrentDictionary<long, (string MediaId, byte[] Key)> _openedTransfers = new();

    /// <summary>
    /// Takes the history transfers waiting in this device's inbox, in order, acknowledging each once it is
    /// taken; returns how many content keys they brought. A message that is not a transfer this device can
    /// open is acknowledged and skipped; a download that fails stops here, to be retried.
    /// </summary>
    public async Task<int> ReceiveHistoryAsync(CancellationToken ct = default)
    {
        var learned = 0;
        foreach (var message in (await _api.GetDeviceMessagesAsync(_session.AccessToken, ct)).OrderBy(m => m.Id))
        {
            if (!_openedTransfers.TryGetValue(message.Id, out var transfer))
            {
                try
                {
                    var pointer = JsonSerializer.Deserialize<HistoryPointer>(message.Data, ProtocolJson.Options)
                                  ?? throw new InvalidMessageException("not a history transfer");
                    var from = AddressOf(_session.UserId, message.FromDevice);
                    var identity = _crypto.IdentityOf(from) ?? await IdentityAsync(from, ct);
                    // A device the account's list no longer names (removed since) brings no keys.
                    (identity, _) = await ListedIdentityAsync(from, identity, ct);
                    // Like any open: the ratchet key is used up, so the transfer's key is kept (and saved) in the same step.
                    await _opening.WaitAsync(ct);
                    try
                    {
                        transfer = _openedTransfers[message.Id] = (pointer.MediaId, _crypto.OpenKey(pointer.Envelope, from, identity));
                        OnStateChangedLocked();
                    }
                    finally
                    {
                        _opening.Release();
                    }
                }
                catch (Exception e) when (e is JsonException or InvalidMessageException or UntrustedIdentityException)
                {
                    await _api.AckDeviceMessagesAsync(_session.AccessToken, message.Id, ct);
                    continue;
                }
            }
            using var download = await _api.DownloadMediaAsync(_session.AccessToken, transfer.MediaId, ct: ct);
            var archive = await download.Content.ReadAsByteArrayAsync(ct);
            var entries = JsonSerializer.Deserialize<List<HistoryEntry>>(MessageBody.Decrypt(HistoryContext, archive, transfer.Key), ProtocolJson.Options)!;
            foreach (var entry in entries) KeepContentKey(entry.ChatId, entry.Seq, entry.Key);
            learned += entries.Count;
            // Saved before the inbox lets go of the transfer.
            await OnStateChangedAsync(ct);
            await _api.AckDeviceMessagesAsync(_session.AccessToken, message.Id, ct);
            _openedTransfers.TryRemove(message.Id, out _);
        }
        return learned;
    }
}
