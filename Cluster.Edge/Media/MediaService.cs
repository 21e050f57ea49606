using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.IO;
using Natter.Actors.Hosting;
using Natter.Actors.Media;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Natter.Messages.Users;

namespace Natter.Cluster.Edge.Media;

/// <summary>
/// Uploads (whole, or resumable in chunks) stream through <see cref="HashingUpload"/> into the blob store; a
/// blob is committed only once its size and SHA-256 match what the client declared. Downloads are allowed to
/// the uploader, or to whoever can see a message of a chat that carries the blob.
/// </summary>
public sealed class MediaService(IBlobStore store, MediaOptions options, ActorSystem system, IRequiredActor<UserRegion> users,
    ChatGateway chats, ILogger<MediaService> logger)
{
    public sealed record Stored(string Id, long Size, string Sha256, string ContentType);

    public sealed record Upload(string UploadId, string Owner, long Size, string ContentType, string Sha256, DateTimeOffset CreatedAt);

    public sealed record Refusal(string Code, string Message);

    private readonly IMaterializer _materializer = system.Materializer();
    // One request at a time per resumable upload: two appends at the same offset would both write the part file.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _uploadLocks = new();
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    public MediaOptions Options => options;

    /// <summary>A whole file in one request body.</summary>
    public async Task<(Stored? Stored, Refusal? Refusal)> UploadAsync(UserId user, Stream body, string contentType, string? declaredSha256,
        long? declaredLength, CancellationToken ct)
    {
        if (CheckDeclared(contentType, declaredSha256, declaredLength) is { } invalid) return (null, invalid);
        if (await QuotaRefusalAsync(user, declaredLength ?? 0) is { } overQuota) return (null, overQuota);
        var temp = store.NewTempPath();
        try
        {
            var digest = await HashingUpload.ToFileAsync(
                HashingUpload.FromStream(body),
                temp, options.MaxBytes, _materializer);
            return await CommitAsync(user, temp, digest, contentType, declaredSha256!, declaredLength);
        }
        catch (Exception e) when (Unwrap(e) is UploadTooLargeException)
        {
            return (null, new Refusal(ErrorCodes.MediaTooLarge, $"a file is at most {options.MaxBytes} bytes"));
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Starts a resumable upload of <paramref name="size"/> bytes with the given hash.</summary>
    public async Task<(Upload? Upload, Refusal? Refusal)> BeginAsync(UserId user, long size, string contentType, string? sha256)
    {
        if (CheckDeclared(contentType, sha256, size) is { } invalid) return (null, invalid);
        if (await QuotaRefusalAsync(user, size) is { } overQuota) return (null, overQuota);
        var upload = new Upload(Guid.NewGuid().ToString("N"), user.Value, size, contentType, sha256!, DateTimeOffset.UtcNow);
        await File.WriteAllBytesAsync(MetaPath(upload.UploadId), JsonSerializer.SerializeToUtf8Bytes(upload, ProtocolJson.Options));
        await File.WriteAllBytesAsync(PartPath(upload.UploadId), []);
        return (upload, null);
    }

    /// <summary>The upload and how many bytes of it are stored, if it exists and belongs to <paramref name="user"/>.</summary>
    public (Upload? Upload, long Received) Status(UserId user, string uploadId)
    {
        if (!IsUploadId(uploadId) || !File.Exists(MetaPath(uploadId))) return (null, 0);
        var upload = JsonSerializer.Deserialize<Upload>(File.ReadAllBytes(MetaPath(uploadId)), ProtocolJson.Options)!;
        return upload.Owner == user.Value ? (upload, new FileInfo(PartPath(uploadId)).Length) : (null, 0);
    }

    /// <summary>Appends a chunk that starts at <paramref name="offset"/>, which must be what is stored so far.</summary>
    public async Task<(long Received, Refusal? Refusal)> AppendAsync(UserId user, string uploadId, long offset, Stream body, CancellationToken ct)
    {
        var gate = _uploadLocks.GetOrAdd(uploadId, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(0, ct)) return (Status(user, uploadId).Received, Busy());
        try
        {
            return await AppendLockedAsync(user, uploadId, offset, body);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<(long Received, Refusal? Refusal)> AppendLockedAsync(UserId user, string uploadId, long offset, Stream body)
    {
        var (upload, received) = Status(user, uploadId);
        if (upload is null) return (0, new Refusal(ErrorCodes.MediaNotFound, "no such upload"));
        if (offset != received) return (received, new Refusal(ErrorCodes.OffsetMismatch, $"the upload has {received} bytes; send from there"));
        try
        {
            // A chunk may not carry the upload past its declared size.
            await HashingUpload.ToFileAsync(
                HashingUpload.FromStream(body),
                PartPath(uploadId), upload.Size - received, _materializer, FileMode.Append);
        }
        catch (Exception e) when (Unwrap(e) is UploadTooLargeException)
        {
            return (Status(user, uploadId).Received, new Refusal(ErrorCodes.MediaTooLarge, $"the upload was declared as {upload.Size} bytes"));
        }
        catch (Exception e) when (Unwrap(e) is not UploadTooLargeException)
        {
            // The client went away mid-chunk: what reached the disk stays, and the client resumes from it.
            logger.LogInformation("Upload {Upload} interrupted at {Bytes} bytes", uploadId, Status(user, uploadId).Received);
        }
        return (Status(user, uploadId).Received, null);
    }

    /// <summary>Verifies the whole file against the declared size and hash and stores it.</summary>
    public async Task<(Stored? Stored, Refusal? Refusal)> CompleteAsync(UserId user, string uploadId)
    {
        var gate = _uploadLocks.GetOrAdd(uploadId, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(0)) return (null, Busy());
        var copy = store.NewTempPath();
        try
        {
            var (upload, received) = Status(user, uploadId);
            if (upload is null) return (null, new Refusal(ErrorCodes.MediaNotFound, "no such upload"));
            if (received != upload.Size) return (null, new Refusal(ErrorCodes.OffsetMismatch, $"the upload has {received} of {upload.Size} bytes"));
            // The bytes committed are exactly the bytes hashed: a copy made through the hashing stage.
            var digest = await HashingUpload.ToFileAsync(FileIO.FromFile(new FileInfo(PartPath(uploadId)), HashingUpload.ChunkBytes)
                .MapMaterializedValue(_ => Akka.NotUsed.Instance), copy, upload.Size, _materializer);
            var result = await CommitAsync(user, copy, digest, upload.ContentType, upload.Sha256, upload.Size);
            if (result.Item2 is null) Abandon(uploadId);
            return result;
        }
        finally
        {
            if (File.Exists(copy)) File.Delete(copy);
            gate.Release();
        }
    }

    private static Refusal Busy() => new(ErrorCodes.OffsetMismatch, "another request of this upload is in progress; ask for its status and resume");

    public void Abandon(string uploadId)
    {
        if (!IsUploadId(uploadId)) return;
        _uploadLocks.TryRemove(uploadId, out _);
        File.Delete(PartPath(uploadId));
        File.Delete(MetaPath(uploadId));
    }

    /// <summary>The blob and its content type, if <paramref name="user"/> may download it.</summary>
    public async Task<(BlobInfo? Blob, string? ContentType, Refusal? Refusal)> AuthorizeDownloadAsync(UserId user, DeviceId device, string id,
        string? chatId, long? seq)
    {
        // Authorization comes first, so a refusal never tells whether a given hash is stored.
        if (!LocalBlobStore.IsSha256(id)) return (null, null, new Refusal(ErrorCodes.MediaNotFound, "no such media"));
        var (contentType, refusal) = await AuthorizedContentTypeAsync(user, device, id, chatId, seq);
        if (refusal is not null) return (null, null, refusal);
        return store.Find(id) is { } blob ? (blob, contentType, null) : (null, null, new Refusal(ErrorCodes.MediaNotFound, "no such media"));
    }

    private async Task<(string? ContentType, Refusal? Refusal)> AuthorizedContentTypeAsync(UserId user, DeviceId device, string id,
        string? chatId, long? seq)
    {
        if (await UploadsAsync(user) is not { } uploads) return (null, Unavailable);
        if (uploads.Media.FirstOrDefault(m => m.BlobId == id) is { } mine) return (mine.ContentType, null);
        if (chatId is null || seq is null)
            return (null, new Refusal(ErrorCodes.NotMember, "name the message that shared it: ?chatId=…&seq=…"));
        if (!ChatIds.MayBeMember(new ChatId(chatId), user, out var early)) return (null, new Refusal(early.Code, early.Message));
        var page = await chats.AskChatAsync<ChatReplies.MessagePage>(
            new ChatQueries.GetMessagesAfter(new ChatId(chatId), user, device, seq - 1, 1), "the cluster did not answer in time; retry");
        if (!page.Ok) return (null, new Refusal(page.ErrorCode!, page.ErrorMessage!));
        var message = page.Value!.Messages.FirstOrDefault(m => m.Seq == seq);
        return message?.Media?.Id == id
            ? (message.Media.ContentType, null)
            : (null, new Refusal(ErrorCodes.NotMember, "that message does not carry this media, or you cannot see it"));
    }

    public Stream OpenRead(string id) => store.OpenRead(id);

    private async Task<(Stored?, Refusal?)> CommitAsync(UserId user, string temp, UploadDigest digest, string contentType, string declaredSha256,
        long? declaredLength)
    {
        if (declaredLength is { } length && length != digest.Size)
            return (null, new Refusal(ErrorCodes.HashMismatch, $"received {digest.Size} bytes, not the {length} declared"));
        if (!string.Equals(digest.Sha256, declaredSha256, StringComparison.OrdinalIgnoreCase))
            return (null, new Refusal(ErrorCodes.HashMismatch, $"the content's SHA-256 is {digest.Sha256}, not the one declared"));
        // Stored first, then counted: a blob nobody is charged for and no message references is collected later,
        // whereas a charge for a blob that was never stored would never be released.
        var blob = store.Commit(temp, digest.Sha256);
        object recorded;
        try
        {
            recorded = await users.ActorRef.Ask<object>(
                new UserCommands.RecordUpload(user, new UploadedMedia(digest.Sha256, digest.Size, contentType), options.QuotaBytes), AskTimeout);
        }
        catch (AskTimeoutException)
        {
            return (null, Unavailable);
        }
        if (recorded is UserReplies.UserRejected rejected) return (null, new Refusal(rejected.Code, rejected.Reason));
        return (new Stored(blob.Id, blob.Size, digest.Sha256, contentType), null);
    }

    private static readonly Refusal Unavailable = new(ErrorCodes.Unavailable, "the cluster did not answer in time; retry");

    private async Task<UserReplies.Uploads?> UploadsAsync(UserId user)
    {
        try { return await users.ActorRef.Ask<UserReplies.Uploads>(new UserQueries.GetUploads(user), AskTimeout); }
        catch (AskTimeoutException) { return null; }
    }

    private async Task<Refusal?> QuotaRefusalAsync(UserId user, long more)
    {
        if (await UploadsAsync(user) is not { } uploads) return Unavailable;
        return uploads.TotalBytes + more > options.QuotaBytes
            ? new Refusal(ErrorCodes.QuotaExceeded, $"this would pass your media quota of {options.QuotaBytes} bytes ({uploads.TotalBytes} used)")
            : null;
    }

    private Refusal? CheckDeclared(string contentType, string? sha256, long? length)
    {
        if (string.IsNullOrWhiteSpace(sha256)) return new Refusal(ErrorCodes.MissingField, "declare the file's SHA-256 (X-Content-SHA256 or 'sha256')");
        if (!LocalBlobStore.IsSha256(sha256.ToLowerInvariant())) return new Refusal(ErrorCodes.InvalidField, "the SHA-256 must be 64 hex digits");
        if (string.IsNullOrWhiteSpace(contentType) || contentType.Length > 255) return new Refusal(ErrorCodes.InvalidField, "declare a content type");
        if (length is < 0) return new Refusal(ErrorCodes.InvalidField, "a size is >= 0");
        if (length > options.MaxBytes) return new Refusal(ErrorCodes.MediaTooLarge, $"a file is at most {options.MaxBytes} bytes");
        return null;
    }

    private string PartPath(string uploadId) => Path.Combine(store.UploadsFolder, uploadId + ".part");

    private string MetaPath(string uploadId) => Path.Combine(store.UploadsFolder, uploadId + ".json");

    private static bool IsUploadId(string id) => id.Length == 32 && id.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0;

    private static Exception Unwrap(Exception e) => e is AggregateException { InnerException: { } inner } ? Unwrap(inner) : e.InnerException is UploadTooLargeException ? e.InnerException : e;
}
