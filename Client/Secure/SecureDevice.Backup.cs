using System.Security.Cryptography;
using System.Text.Json;
using Natter.Client.Crypto;
using Natter.Messages.Protocol;

namespace Natter.Client.Secure;

/// <summary>
/// Backup and restore (docs/e2ee.md §10). The server already keeps every chat's history and its media, but
/// as ciphertext: what only devices hold is the content keys. A backup is those keys, sealed under the
/// user's passphrase (<see cref="BackupArchive"/>) and stored as the account's backup blob, so a user who
/// lost every device restores the whole history, and the attachments whose keys are in it, on a new one.
/// </summary>
public sealed partial class SecureDevice
{
    private sealed record BackupContents(int Version, IReadOnlyList<HistoryEntry> Keys);

    /// <summary>Seals every content key this device holds under <paramref name="passphrase"/> and makes it the account's backup.</summary>
    /// <param name="iterations">PBKDF2's work factor; <see cref="BackupArchive.DefaultIterations"/> unless there is a reason.</param>
    public async Task<BackupView> BackupAsync(string passphrase, int iterations = BackupArchive.DefaultIterations, CancellationToken ct = default)
    {
        var keys = _contentKeys.Select(kv => new HistoryEntry(kv.Key.ChatId, kv.Key.Seq, kv.Value)).OrderBy(e => e.ChatId).ThenBy(e => e.Seq).ToList();
        var archive = BackupArchive.Seal(JsonSerializer.SerializeToUtf8Bytes(new BackupContents(1, keys), ProtocolJson.Options),
            passphrase, _session.UserId, iterations);
        var stored = await _api.UploadMediaAsync(_session.AccessToken, new MemoryStream(archive), "application/octet-stream",
            Convert.ToHexStringLower(SHA256.HashData(archive)), ct);
        return await _api.PutBackupAsync(_session.AccessToken, stored.Id, ct);
    }

    /// <summary>
    /// Downloads the account's backup, opens it with <paramref name="passphrase"/> and keeps its content keys;
    /// returns how many it brought. <see cref="InvalidMessageException"/> if the passphrase does not open it;
    /// <see cref="NatterApiException"/> <c>no_backup</c> if the account has none.
    /// </summary>
    public async Task<int> RestoreBackupAsync(string passphrase, CancellationToken ct = default)
    {
        var backup = await _api.GetBackupAsync(_session.AccessToken, ct);
        using var download = await _api.DownloadMediaAsync(_session.AccessToken, backup.MediaId, ct: ct);
        var archive = await download.Content.ReadAsByteArrayAsync(ct);
        var contents = JsonSerializer.Deserialize<BackupContents>(BackupArchive.Open(archive, passphrase, _session.UserId), ProtocolJson.Options);
        if (contents is not { Version: 1, Keys: { } keys } || keys.Any(k => k is null || k.Key is not { Length: MessageBody.ContentKeySize }))
            throw new InvalidMessageException($"Not a version 1 backup's contents.");
        foreach (var entry in keys) KeepContentKey(entry.ChatId, entry.Seq, entry.Key);
        await OnStateChangedAsync(ct);
        return keys.Count;
    }
}
