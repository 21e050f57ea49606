using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Natter.Actors.Media;
using Natter.Client;
using Natter.Integration.Tests.Infrastructure;
using Natter.Messages.Protocol;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// Media through the real edge: streamed uploads checked against their hash, resumable uploads, range
/// downloads, who may download, limits, and collection of unreferenced blobs. Files here are at most 4 MiB,
/// and a user may store 12 MiB.
/// </summary>
public sealed class MediaSpecs : IAsyncLifetime
{
    private const long MaxBytes = 4 * 1024 * 1024;
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(Journal.Sqlite(), overrides: new Dictionary<string, string?>
    {
        ["Natter:Media:MaxBytes"] = MaxBytes.ToString(),
        ["Natter:Media:QuotaBytes"] = (12 * 1024 * 1024).ToString(),
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static byte[] RandomBytes(int size) => RandomNumberGenerator.GetBytes(size);

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private Task<StoredMedia> UploadAsync(DeviceSession who, byte[] bytes, string? sha = null) =>
        _server.Api.UploadMediaAsync(who.AccessToken, new MemoryStream(bytes), "application/octet-stream", sha ?? Sha256(bytes));

    private async Task<byte[]> DownloadAsync(DeviceSession who, string id, string? chatId = null, long? seq = null, RangeHeaderValue? range = null)
    {
        using var response = await _server.Api.DownloadMediaAsync(who.AccessToken, id, chatId, seq, range);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private string BlobFolder => Path.Combine(_server.DataDirectory, "media");

    [Theory]
    [InlineData(1)]
    [InlineData(100_000)]
    [InlineData(4 * 1024 * 1024)]
    public async Task An_upload_downloads_byte_for_byte_and_identical_content_is_stored_once(int size)
    {
        var alice = await _server.RegisterAsync();
        var bytes = RandomBytes(size);

        var stored = await UploadAsync(alice, bytes);
        var again = await UploadAsync(alice, bytes);

        Assert.Equal((Sha256(bytes), (long)size), (stored.Id, stored.Size));
        Assert.Equal(stored.Id, again.Id);
        Assert.Equal(bytes, await DownloadAsync(alice, stored.Id));
        Assert.Single(Directory.EnumerateFiles(BlobFolder, stored.Id, SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_hash_mismatch_is_refused_and_nothing_is_kept()
    {
        var alice = await _server.RegisterAsync();
        var bytes = RandomBytes(50_000);

        var error = await Assert.ThrowsAsync<NatterApiException>(() => UploadAsync(alice, bytes, sha: Sha256([1, 2, 3])));

        Assert.Equal((ErrorCodes.HashMismatch, (int?)400), (error.Code, error.HttpStatus));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(BlobFolder, "blobs"), "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(BlobFolder, "tmp")));
        // Nothing was recorded either: it is not hers to download (the refusal does not say whether it exists).
        var missing = await Assert.ThrowsAsync<NatterApiException>(() => DownloadAsync(alice, Sha256(bytes)));
        Assert.Equal(ErrorCodes.NotMember, missing.Code);
    }

    [Fact]
    public async Task A_dropped_upload_resumes_from_its_last_stored_byte()
    {
        var alice = await _server.RegisterAsync();
        var bytes = RandomBytes(3 * 1024 * 1024);
        var upload = await _server.Api.BeginUploadAsync(alice.AccessToken, bytes.Length, "video/mp4", Sha256(bytes));

        await _server.Api.AppendUploadAsync(alice.AccessToken, upload.UploadId, 0, new ByteArrayContent(bytes[..1_000_000]));
        // The next chunk's connection drops after about half of it.
        using (var dropping = new HttpClient { BaseAddress = _server.BaseAddress })
        {
            var failing = new StreamContent(new FailingStream(bytes[1_000_000..2_000_000], failAfter: 500_000));
            await Assert.ThrowsAnyAsync<Exception>(() => new NatterHttpClient(dropping).AppendUploadAsync(alice.AccessToken, upload.UploadId, 1_000_000, failing));
        }
        var status = await WaitForSettledAsync(alice, upload.UploadId);
        Assert.InRange(status.Received, 1_000_000, 2_000_000);

        var wrongOffset = await Assert.ThrowsAsync<NatterApiException>(() =>
            _server.Api.AppendUploadAsync(alice.AccessToken, upload.UploadId, 0, new ByteArrayContent(bytes[..10])));
        Assert.Equal((ErrorCodes.OffsetMismatch, (int?)409), (wrongOffset.Code, wrongOffset.HttpStatus));
        // The server may still be finishing the dropped request: resume from whatever it then holds.
        var stored = await RetryWhileBusyAsync(async () =>
        {
            var now = await _server.Api.UploadStatusAsync(alice.AccessToken, upload.UploadId);
            if (now.Received < bytes.Length)
                await _server.Api.AppendUploadAsync(alice.AccessToken, upload.UploadId, now.Received, new ByteArrayContent(bytes[(int)now.Received..]));
            return await _server.Api.CompleteUploadAsync(alice.AccessToken, upload.UploadId);
        });

        Assert.Equal(Sha256(bytes), stored.Id);
        Assert.Equal(bytes, await DownloadAsync(alice, stored.Id));
    }

    private static async Task<T> RetryWhileBusyAsync<T>(Func<Task<T>> attempt)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try { return await attempt(); }
            catch (NatterApiException e) when (e.Code == ErrorCodes.OffsetMismatch && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private async Task<MediaUpload> WaitForSettledAsync(DeviceSession who, string uploadId)
    {
        // The server notices the dropped connection a moment later; wait until the stored length stops moving.
        var last = -1L;
        for (var i = 0; i < 50; i++)
        {
            var status = await _server.Api.UploadStatusAsync(who.AccessToken, uploadId);
            if (status.Received == last) return status;
            last = status.Received;
            await Task.Delay(200);
        }
        return await _server.Api.UploadStatusAsync(who.AccessToken, uploadId);
    }

    [Fact]
    public async Task Range_requests_return_exactly_the_bytes_asked_for()
    {
        var alice = await _server.RegisterAsync();
        var bytes = RandomBytes(1_000_000);
        var stored = await UploadAsync(alice, bytes);

        using var response = await _server.Api.DownloadMediaAsync(alice.AccessToken, stored.Id, range: new RangeHeaderValue(100_000, 199_999));
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(bytes[100_000..200_000], await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(bytes[^500..], await DownloadAsync(alice, stored.Id, range: new RangeHeaderValue(null, 500)));
    }

    [Fact]
    public async Task Only_the_uploader_and_those_who_can_see_a_message_carrying_it_may_download()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var mallory = await _server.RegisterAsync();
        var chatId = (await _server.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId)).ChatId;
        var bytes = RandomBytes(10_000);
        var stored = await UploadAsync(alice, bytes);

        // Before it is shared, Bob cannot fetch it.
        Assert.Equal(ErrorCodes.NotMember, (await Assert.ThrowsAsync<NatterApiException>(() => DownloadAsync(bob, stored.Id))).Code);
        await using var socket = await _server.ConnectAsync(alice);
        var ack = await socket.SendAsync(chatId, "photo-1", [], media: new MediaFrame(stored.Id, stored.Size, "image/jpeg", [1, 2, 3], "look"));

        Assert.Equal(bytes, await DownloadAsync(bob, stored.Id, chatId, ack.Seq));
        var page = await _server.Api.GetMessagesAsync(bob.AccessToken, chatId);
        Assert.Equal(("image/jpeg", "look"), (page.Messages[0].Media!.ContentType, page.Messages[0].Media!.Caption));
        var refused = await Assert.ThrowsAsync<NatterApiException>(() => DownloadAsync(mallory, stored.Id, chatId, ack.Seq));
        Assert.Equal((ErrorCodes.NotMember, (int?)403), (refused.Code, refused.HttpStatus));
        // Over REST too: a media message, and the download it allows.
        var viaRest = await _server.Api.PostMessageAsync(alice.AccessToken, chatId, "photo-2", [], media: new MediaFrame(stored.Id, stored.Size, "image/jpeg"));
        Assert.Equal(bytes, await DownloadAsync(bob, stored.Id, chatId, viaRest.Seq));
        // Naming a message that does not carry it proves nothing.
        var other = await socket.SendAsync(chatId, "text-1", [1]);
        Assert.Equal(ErrorCodes.NotMember, (await Assert.ThrowsAsync<NatterApiException>(() => DownloadAsync(bob, stored.Id, chatId, other.Seq))).Code);
    }

    [Fact]
    public async Task The_size_limit_and_the_quota_are_enforced()
    {
        var alice = await _server.RegisterAsync();
        var tooBig = RandomBytes((int)MaxBytes + 1);
        var error = await Assert.ThrowsAsync<NatterApiException>(() => UploadAsync(alice, tooBig));
        Assert.Equal((ErrorCodes.MediaTooLarge, (int?)413), (error.Code, error.HttpStatus));

        for (var i = 0; i < 3; i++) await UploadAsync(alice, RandomBytes(4 * 1024 * 1024));
        var over = await Assert.ThrowsAsync<NatterApiException>(() => UploadAsync(alice, RandomBytes(10)));
        Assert.Equal((ErrorCodes.QuotaExceeded, (int?)413), (over.Code, over.HttpStatus));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(BlobFolder, "tmp")));
    }

    [Fact]
    public async Task Collection_removes_only_blobs_no_message_references_and_frees_their_quota()
    {
        var alice = await _server.RegisterAsync();
        var bob = await _server.RegisterAsync();
        var chatId = (await _server.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId)).ChatId;
        var kept = await UploadAsync(alice, RandomBytes(4 * 1024 * 1024));
        var orphan = await UploadAsync(alice, RandomBytes(4 * 1024 * 1024));
        await using var socket = await _server.ConnectAsync(alice);
        await socket.SendAsync(chatId, "m", [], media: new MediaFrame(kept.Id, kept.Size, "image/png"));
        var collector = _server.Services.GetRequiredService<MediaCollector>();

        var early = await collector.CollectAsync(DateTimeOffset.UtcNow);
        Assert.Equal(0, early.Deleted);
        var late = await collector.CollectAsync(DateTimeOffset.UtcNow.AddDays(2));

        Assert.Equal((1, 1), (late.Deleted, late.Kept));
        var store = _server.Services.GetRequiredService<IBlobStore>();
        Assert.NotNull(store.Find(kept.Id));
        Assert.Null(store.Find(orphan.Id));
        // The orphan no longer counts (its release is told to her account): two more 4 MiB files fit in the 12 MiB quota.
        await UploadWhenQuotaAllowsAsync(alice, RandomBytes(4 * 1024 * 1024));
        await UploadWhenQuotaAllowsAsync(alice, RandomBytes(4 * 1024 * 1024));
    }

    [Fact]
    public async Task A_file_uploaded_again_while_it_is_collected_stays_and_its_uploader_keeps_the_record()
    {
        var alice = await _server.RegisterAsync();
        var orphan = await UploadAsync(alice, RandomBytes(1024));
        var store = _server.Services.GetRequiredService<IBlobStore>();
        // Uploaded two days ago, as far as the collector can tell (it goes by the file's time).
        File.SetLastWriteTimeUtc(Directory.EnumerateFiles(Path.Combine(BlobFolder, "blobs"), orphan.Id, SearchOption.AllDirectories).Single(),
            DateTime.UtcNow.AddDays(-2));
        // The same bytes committed again right after alice's account forgot her record and before the file goes:
        // the real store's commit, through a store that makes it happen at that very moment.
        var collector = ActivatorUtilities.CreateInstance<MediaCollector>(_server.Services,
            new Func<IBlobStore>(() => new UploadAgainBeforeDelete(store)));

        var outcome = await collector.CollectAsync(DateTimeOffset.UtcNow);

        Assert.Equal((0, 1), (outcome.Deleted, outcome.Kept));
        Assert.NotNull(store.Find(orphan.Id));
        Assert.Equal(1024, (await DownloadAsync(alice, orphan.Id)).Length);
        // Her record was given back: she can still name the file as her backup (only one's own uploads can be).
        Assert.Equal(orphan.Id, (await _server.Api.PutBackupAsync(alice.AccessToken, orphan.Id)).MediaId);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(BlobFolder, "tmp")));

        // Collected for good once no longer her backup.
        await _server.Api.DeleteBackupAsync(alice.AccessToken);
        Assert.Equal(1, (await _server.Services.GetRequiredService<MediaCollector>().CollectAsync(DateTimeOffset.UtcNow.AddDays(4))).Deleted);
        Assert.Null(store.Find(orphan.Id));
    }

    /// <summary>The real store, with the same content committed again (as an upload of it would) just before a delete.</summary>
    private sealed class UploadAgainBeforeDelete(IBlobStore inner) : IBlobStore
    {
        public string UploadsFolder => inner.UploadsFolder;
        public string NewTempPath() => inner.NewTempPath();
        public BlobInfo Commit(string tempPath, string sha256) => inner.Commit(tempPath, sha256);
        public BlobInfo? Find(string id) => inner.Find(id);
        public Stream OpenRead(string id) => inner.OpenRead(id);
        public IEnumerable<BlobInfo> List() => inner.List();
        public int DeleteTempFilesOlderThan(DateTimeOffset before) => inner.DeleteTempFilesOlderThan(before);
        public void RecoverSetAside() => inner.RecoverSetAside();

        public BlobDeletion DeleteIfStoredBefore(string id, DateTimeOffset cutoff)
        {
            var temp = inner.NewTempPath();
            using (var source = inner.OpenRead(id)) using (var copy = File.Create(temp)) source.CopyTo(copy);
            inner.Commit(temp, id);
            return inner.DeleteIfStoredBefore(id, cutoff);
        }
    }

    private async Task UploadWhenQuotaAllowsAsync(DeviceSession who, byte[] bytes)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await UploadAsync(who, bytes);
                return;
            }
            catch (NatterApiException e) when (e.Code == ErrorCodes.QuotaExceeded && attempt < 50)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>A request body that breaks the connection after some bytes, as a dropped mobile link would.</summary>
    private sealed class FailingStream(byte[] data, int failAfter) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => Position >= failAfter ? throw new IOException("link dropped") : base.Read(buffer, offset, Math.Min(count, failAfter - (int)Position));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => Task.FromResult(Read(buffer, offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            var array = new byte[buffer.Length];
            var n = Read(array, 0, array.Length);
            array.AsSpan(0, n).CopyTo(buffer.Span);
            return ValueTask.FromResult(n);
        }
    }
}
