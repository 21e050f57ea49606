using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Natter.Actors.Hosting;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Users;

namespace Natter.Actors.Media;

/// <summary>
/// Garbage collection of media: a blob older than the grace period that no stored message references and
/// that is no account's current backup is deleted once its uploaders' accounts have forgotten it (which
/// releases their quota; an account whose backup it has become since refuses, and it stays); resumable uploads
/// untouched for the upload TTL are abandoned. References are found by reading the journal from the start
/// (every message's attachment, every upload record, every backup change in order): simple and exact, at a
/// cost linear in the journal, once per interval. Runs in processes that host entities and see the media
/// folder (they carry the "media" role); of several such members only the oldest collects
/// (<see cref="CollectsHere"/>), so the journal is read once per interval however many there are. The store is
/// opened at the first collection: a node whose media volume is not writable logs that at each interval and
/// goes on serving its entities.
/// </summary>
public sealed class MediaCollector(Func<IBlobStore> openStore, MediaOptions options, ActorSystem system, IRequiredActor<UserRegion> users,
    ILogger<MediaCollector> logger) : BackgroundService
{
    public sealed record Outcome(int Deleted, int Kept, int AbandonedUploads);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.GcInterval, stoppingToken);
                if (!CollectsHere()) continue;
                var outcome = await CollectAsync(DateTimeOffset.UtcNow);
                if (outcome.Deleted + outcome.AbandonedUploads > 0)
                    logger.LogInformation("Media collection: {Deleted} blobs deleted, {Kept} kept, {Uploads} abandoned uploads removed",
                        outcome.Deleted, outcome.Kept, outcome.AbandonedUploads);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Media collection failed; trying again next interval");
            }
        }
    }

    /// <summary>
    /// This member is the oldest Up member that runs a collector (role "media"). While membership changes two
    /// members may both think so for a moment; the two then repeat each other's work (see <see cref="CollectAsync"/>).
    /// </summary>
    public bool CollectsHere()
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var oldest = cluster.State.Members
            .Where(m => m.Status == Akka.Cluster.MemberStatus.Up && m.HasRole(NatterRoles.Media))
            .OrderBy(m => m, Akka.Cluster.Member.AgeOrdering)
            .FirstOrDefault();
        return oldest?.UniqueAddress == cluster.SelfUniqueAddress;
    }

    public async Task<Outcome> CollectAsync(DateTimeOffset now)
    {
        var store = openStore();
        store.RecoverSetAside();
        var abandoned = 0;
        foreach (var part in Directory.EnumerateFiles(store.UploadsFolder, "*.part"))
        {
            if (now - File.GetLastWriteTimeUtc(part) < options.UploadTtl) continue;
            File.Delete(part);
            File.Delete(Path.ChangeExtension(part, ".json"));
            abandoned++;
        }

        abandoned += store.DeleteTempFilesOlderThan(now - options.UploadTtl);

        var candidates = store.List().Where(b => now - b.StoredAt >= options.GcGracePeriod).ToList();
        if (candidates.Count == 0) return new Outcome(0, 0, abandoned);
        var (referenced, uploaders) = await ReadReferencesAsync();
        var deleted = 0;
        foreach (var blob in candidates.Where(b => !referenced.Contains(b.Id)))
        {
            // Stored again while the journal was read (the same bytes uploaded anew renew its time): it waits another
            // grace period.
            if (!StillOld(store, blob.Id, now)) continue;
            var records = uploaders.TryGetValue(blob.Id, out var holders) ? holders.Select(h => (h.Key, h.Value)).ToList() : [];
            var forgotten = await ForgetUploadsAsync(blob.Id, records);
            var deletion = forgotten.Count == records.Count ? store.DeleteIfStoredBefore(blob.Id, now - options.GcGracePeriod) : BlobDeletion.Kept;
            if (deletion == BlobDeletion.Deleted) deleted++;
            // The file stays (an account made it its backup, or the same bytes were uploaded again meanwhile, whose
            // record was the one just forgotten): the accounts that forgot it get their record back.
            if (deletion == BlobDeletion.Kept) await RestoreUploadsAsync(forgotten);
        }
        return new Outcome(deleted, candidates.Count - deleted, abandoned);
    }

    private bool StillOld(IBlobStore store, string blobId, DateTimeOffset now) =>
        store.Find(blobId) is { } current && now - current.StoredAt >= options.GcGracePeriod;

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Every uploader's account forgets the upload before the file goes; answers those that did. An account refuses
    /// while the file is its current backup, which it may have become after the journal was read: then the file stays.
    /// And once forgotten, no account can name it as its backup any more. An account that does not answer keeps the
    /// file until the next run.
    /// </summary>
    private async Task<List<(UserId User, UploadedMedia Media)>> ForgetUploadsAsync(string blobId, IReadOnlyList<(UserId User, UploadedMedia Media)> uploaders)
    {
        var forgotten = new List<(UserId, UploadedMedia)>();
        foreach (var (uploader, media) in uploaders)
        {
            try
            {
                if (await users.ActorRef.Ask<object>(new UserCommands.ForgetUpload(uploader, blobId), AskTimeout) is not UserReplies.UserRejected)
                    forgotten.Add((uploader, media));
            }
            catch (Exception e)
            {
                // The file stays until the next run; the other files are still looked at.
                logger.LogWarning(e, "Media collection: {User} did not forget upload {Blob}; the file is kept", uploader, blobId);
            }
        }
        return forgotten;
    }

    /// <summary>Records given back for a file that stays: it counts against their quota again, as it did (no quota check).</summary>
    private async Task RestoreUploadsAsync(IEnumerable<(UserId User, UploadedMedia Media)> forgotten)
    {
        foreach (var (uploader, media) in forgotten)
        {
            try
            {
                await users.ActorRef.Ask<object>(new UserCommands.RecordUpload(uploader, media, long.MaxValue), AskTimeout);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Media collection: {User}'s record of upload {Blob} could not be given back", uploader, media.BlobId);
            }
        }
    }

    /// <summary>Every referenced blob, and the accounts holding a record of each blob when the journal was read.</summary>
    private async Task<(HashSet<string> Referenced, Dictionary<string, Dictionary<UserId, UploadedMedia>> Uploaders)> ReadReferencesAsync()
    {
        var referenced = new HashSet<string>();
        var uploaders = new Dictionary<string, Dictionary<UserId, UploadedMedia>>();
        var backups = new Dictionary<UserId, string>();
        var journal = PersistenceQuery.Get(system).ReadJournalFor<ICurrentAllEventsQuery>("akka.persistence.query.journal.sql");
        await journal.CurrentAllEvents(Offset.NoOffset()).RunForeach(envelope =>
        {
            switch (envelope.Event)
            {
                case ChatEvents.MessageAppended { Media: { } media }:
                    referenced.Add(media.Id);
                    break;
                case UserEvents.MediaUploaded uploaded:
                    if (!uploaders.TryGetValue(uploaded.Media.BlobId, out var holders)) uploaders[uploaded.Media.BlobId] = holders = [];
                    holders[uploaded.UserId] = uploaded.Media;
                    break;
                case UserEvents.MediaForgotten forgotten:
                    uploaders.GetValueOrDefault(forgotten.BlobId)?.Remove(forgotten.UserId);
                    break;
                case UserEvents.BackupStored stored:
                    backups[stored.UserId] = stored.Backup.BlobId;
                    break;
                case UserEvents.BackupDeleted deleted:
                    backups.Remove(deleted.UserId);
                    break;
            }
        }, system.Materializer());
        referenced.UnionWith(backups.Values);
        return (referenced, uploaders);
    }
}
