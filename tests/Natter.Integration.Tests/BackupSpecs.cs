using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Natter.Client;
using Natter.Client.Crypto;
using Natter.Client.Secure;
using Natter.Actors.Media;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// Backup and restore over the real API: a user who lost their only device restores the history and its
/// attachments on a new phone with the passphrase (and not without it); the backup is the account's own,
/// checked on the way in, opaque to the server, and kept from collection only while it is current.
/// </summary>
public sealed class BackupSpecs : IAsyncLifetime
{
    private const string Passphrase = "a long walk on a short pier";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite());

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<byte[]> DownloadAsync(DeviceSession who, string id, string? chatId = null, long? seq = null)
    {
        using var response = await _server.Api.DownloadMediaAsync(who.AccessToken, id, chatId, seq);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private Task<StoredMedia> UploadAsync(DeviceSession who, byte[] bytes) =>
        _server.Api.UploadMediaAsync(who.AccessToken, new MemoryStream(bytes), "application/octet-stream", Convert.ToHexStringLower(SHA256.HashData(bytes)));

    [Fact]
    public async Task A_user_who_lost_their_phone_restores_the_history_and_its_attachments_on_a_new_one_with_the_passphrase()
    {
        var alicePhoneNumber = Phones.Next();
        var alice = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync(alicePhoneNumber));
        var bob = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync());
        var chatId = (await _server.Api.OpenChatAsync(alice.Session.AccessToken, "+" + bob.Session.UserId)).ChatId;
        string[] members = [alice.Session.UserId, bob.Session.UserId];
        var sent = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            sent.Add($"alice {i}");
            await alice.Secure.SendAsync(alice.Socket, chatId, members, $"a{i}", Encoding.UTF8.GetBytes(sent[^1]));
            sent.Add($"bob {i}");
            await bob.Secure.SendAsync(bob.Socket, chatId, members, $"b{i}", Encoding.UTF8.GetBytes(sent[^1]));
        }
        var photo = RandomNumberGenerator.GetBytes(50_000);
        var (file, fileKey, sha) = SecureDevice.EncryptAttachment(photo);
        var stored = await _server.Api.UploadMediaAsync(bob.Session.AccessToken, new MemoryStream(file), "application/octet-stream", sha);
        sent.Add($"{stored.Id}:{Convert.ToBase64String(fileKey)}");
        await bob.Secure.SendAsync(bob.Socket, chatId, members, "photo", Encoding.UTF8.GetBytes(sent[^1]),
            attachment: new MediaFrame(stored.Id, stored.Size, stored.ContentType));
        // Alice's phone opens everything as it arrives (that is how a device comes to hold the keys).
        await alice.Socket.Received.WaitForCountAsync(chatId, 3, Wait);
        Assert.Equal(sent, await alice.HistoryAsync(chatId));

        var backup = await alice.Secure.BackupAsync(Passphrase, BackupArchive.MinIterations);
        Assert.Equal(alice.Session.DeviceId, backup.DeviceId);
        Assert.Equal(backup, await _server.Api.GetBackupAsync(alice.Session.AccessToken));
        // What the server holds is opaque: no chat id, let alone a key, in the clear.
        var blob = await DownloadAsync(alice.Session, backup.MediaId);
        Assert.Equal("NATTERBK"u8.ToArray(), blob[..8]);
        Assert.Equal(-1, blob.AsSpan().IndexOf(Encoding.UTF8.GetBytes(chatId)));
        // Bob has no backup, and may not read Alice's.
        Assert.Equal((ErrorCodes.NoBackup, (int?)404), await ErrorOf(() => _server.Api.GetBackupAsync(bob.Session.AccessToken)));
        Assert.Equal(ErrorCodes.NotMember, (await ErrorOf(() => DownloadAsync(bob.Session, backup.MediaId))).Code);

        // The phone is lost: the number verified again on a new phone, the old one logged out.
        var newPhone = await SecureTestDevice.StartAsync(_server, await _server.RegisterAsync(alicePhoneNumber, "new phone"));
        Assert.Equal(ErrorCodes.Unauthorized, (await ErrorOf(() => _server.Api.GetBackupAsync(alice.Session.AccessToken))).Code);
        await Assert.ThrowsAnyAsync<InvalidMessageException>(() => newPhone.HistoryAsync(chatId));
        await Assert.ThrowsAsync<InvalidMessageException>(() => newPhone.Secure.RestoreBackupAsync("not the passphrase"));

        Assert.Equal(sent.Count, await newPhone.Secure.RestoreBackupAsync(Passphrase));
        var history = await newPhone.HistoryAsync(chatId);
        Assert.Equal(sent, history);
        var photoMessage = (await _server.Api.GetMessagesAsync(newPhone.Session.AccessToken, chatId)).Messages.Single(m => m.Media is not null);
        var parts = history[^1].Split(':');
        var downloaded = await DownloadAsync(newPhone.Session, parts[0], chatId, photoMessage.Seq);
        Assert.Equal(photo, SecureDevice.DecryptAttachment(downloaded, Convert.FromBase64String(parts[1])));

        // And the conversation goes on from the new phone.
        var bobHad = bob.Socket.Received.Of(chatId).Count;
        await newPhone.Secure.SendAsync(newPhone.Socket, chatId, members, "back", "I'm back"u8.ToArray());
        await bob.Socket.Received.WaitForCountAsync(chatId, bobHad + 1, Wait);
        Assert.Equal("I'm back", Encoding.UTF8.GetString(await bob.Secure.OpenAsync(bob.Socket.Received.Of(chatId)[^1])));
    }

    [Fact]
    public async Task Bad_backup_requests_are_refused_and_only_the_current_backup_is_kept_from_collection()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var bobs = await UploadAsync(bob, RandomNumberGenerator.GetBytes(100));
        Assert.Equal((ErrorCodes.NoBackup, (int?)404), await ErrorOf(() => _server.Api.GetBackupAsync(alice.AccessToken)));
        Assert.Equal((ErrorCodes.MissingField, (int?)400), await ErrorOf(() => _server.Api.PutBackupAsync(alice.AccessToken, "")));
        Assert.Equal((ErrorCodes.InvalidField, (int?)400), await ErrorOf(() => _server.Api.PutBackupAsync(alice.AccessToken, "../etc/passwd")));
        Assert.Equal((ErrorCodes.MediaNotFound, (int?)404), await ErrorOf(() => _server.Api.PutBackupAsync(alice.AccessToken, bobs.Id)));

        var first = await UploadAsync(alice, RandomNumberGenerator.GetBytes(100));
        var second = await UploadAsync(alice, RandomNumberGenerator.GetBytes(100));
        await _server.Api.PutBackupAsync(alice.AccessToken, first.Id);
        Assert.Equal(second.Id, (await _server.Api.PutBackupAsync(alice.AccessToken, second.Id)).MediaId);
        var collector = _server.Services.GetRequiredService<MediaCollector>();
        // Past the grace period: the replaced backup (and Bob's stray upload) go; the current one stays.
        Assert.Equal(2, (await collector.CollectAsync(DateTimeOffset.UtcNow.AddDays(2))).Deleted);
        Assert.Equal(second.Id, (await _server.Api.GetBackupAsync(alice.AccessToken)).MediaId);
        Assert.Equal(100, (await DownloadAsync(alice, second.Id)).Length);

        await _server.Api.DeleteBackupAsync(alice.AccessToken);
        await _server.Api.DeleteBackupAsync(alice.AccessToken);
        Assert.Equal((ErrorCodes.NoBackup, (int?)404), await ErrorOf(() => _server.Api.GetBackupAsync(alice.AccessToken)));
        Assert.Equal(1, (await collector.CollectAsync(DateTimeOffset.UtcNow.AddDays(2))).Deleted);
    }

    private static async Task<(string Code, int? HttpStatus)> ErrorOf(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<NatterApiException>(call);
        return (error.Code, error.HttpStatus);
    }
}
