namespace Natter.Actors.Media;

public sealed record BlobInfo(string Id, long Size, DateTimeOffset StoredAt);

public enum BlobDeletion
{
    Deleted,
    /// <summary>Stored again at or after the cutoff: it stays.</summary>
    Kept,
    /// <summary>Not there (deleted already).</summary>
    Absent,
}

/// <summary>
/// Where media bytes live, content-addressed by SHA-256: identical content is stored once. An upload is
/// written to a temporary file and committed (moved into place) only when complete and verified. The local
/// disk implementation is the embedded default; an S3-compatible one can replace it without changing callers.
/// </summary>
public interface IBlobStore
{
    /// <summary>A fresh temporary file path for an upload to stream into.</summary>
    string NewTempPath();

    /// <summary>Moves a verified upload into place under its hash (or discards it when that content is stored already).</summary>
    BlobInfo Commit(string tempPath, string sha256);

    BlobInfo? Find(string id);

    Stream OpenRead(string id);

    IEnumerable<BlobInfo> List();

    /// <summary>
    /// Deletes the blob unless it was stored (or stored again) at or after <paramref name="cutoff"/>, atomically with
    /// respect to <see cref="Commit"/>: an upload of the same bytes either renews the blob before it goes (it stays) or
    /// puts a new copy in place after.
    /// </summary>
    BlobDeletion DeleteIfStoredBefore(string id, DateTimeOffset cutoff);

    /// <summary>Blobs a delete had set aside when its process stopped go back (or away, if a copy is in place again).</summary>
    void RecoverSetAside();

    /// <summary>The folder for resumable uploads in progress.</summary>
    string UploadsFolder { get; }

    /// <summary>Temporary files older than <paramref name="before"/> (left by a crash mid-upload) are removed; returns how many.</summary>
    int DeleteTempFilesOlderThan(DateTimeOffset before);
}

/// <summary>Blobs as files under <c>{root}/blobs/{first two hex digits}/{sha256}</c>; temporary files under <c>{root}/tmp</c>.</summary>
public sealed class LocalBlobStore : IBlobStore
{
    private const string AsideMark = ".deleting-";
    private readonly string _blobs;
    private readonly string _tmp;
    private readonly Action<string>? _whileAside;

    /// <param name="whileAside">For tests: runs while a delete has the blob of that id set aside.</param>
    public LocalBlobStore(string root, Action<string>? whileAside = null)
    {
        _whileAside = whileAside;
        _blobs = Path.Combine(root, "blobs");
        _tmp = Path.Combine(root, "tmp");
        UploadsFolder = Path.Combine(root, "uploads");
        Directory.CreateDirectory(_blobs);
        Directory.CreateDirectory(_tmp);
        Directory.CreateDirectory(UploadsFolder);
    }

    public string UploadsFolder { get; }

    public string NewTempPath() => Path.Combine(_tmp, Guid.NewGuid().ToString("N"));

    public BlobInfo Commit(string tempPath, string sha256)
    {
        var path = PathOf(sha256) ?? throw new ArgumentException("not a SHA-256 in hex", nameof(sha256));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // The same content uploaded twice is kept once; the move is atomic on one file system.
                File.Move(tempPath, path, overwrite: false);
                File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
                return Find(sha256)!;
            }
            catch (IOException) when (File.Exists(path))
            {
                try
                {
                    // Stored already: its age counts from this upload, so the collector's grace period starts again.
                    File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
                    // Still there once renewed: this upload's copy is not needed.
                    if (Find(sha256) is { } renewed)
                    {
                        File.Delete(tempPath);
                        return renewed;
                    }
                }
                catch (FileNotFoundException) when (attempt < 3)
                {
                }
                // The collector moved it aside just now (DeleteIfStoredBefore): this upload's copy goes in its place.
                if (attempt >= 3) throw new IOException($"blob {sha256} kept vanishing while it was stored");
            }
        }
    }

    public BlobInfo? Find(string id)
    {
        var path = PathOf(id);
        if (path is null || !File.Exists(path)) return null;
        var file = new FileInfo(path);
        return new BlobInfo(id, file.Length, file.LastWriteTimeUtc);
    }

    public Stream OpenRead(string id) =>
        new FileStream(PathOf(id) ?? throw new FileNotFoundException(id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
            64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public int DeleteTempFilesOlderThan(DateTimeOffset before)
    {
        var deleted = 0;
        // Blobs set aside by a delete are not temporary files (RecoverSetAside puts them back).
        foreach (var file in Directory.EnumerateFiles(_tmp).Where(f => !f.Contains(AsideMark, StringComparison.Ordinal)
                     && File.GetLastWriteTimeUtc(f) < before.UtcDateTime))
        {
            File.Delete(file);
            deleted++;
        }
        return deleted;
    }

    public IEnumerable<BlobInfo> List() =>
        Directory.EnumerateFiles(_blobs, "*", SearchOption.AllDirectories)
            .Select(f => new FileInfo(f))
            .Where(f => IsSha256(f.Name))
            .Select(f => new BlobInfo(f.Name, f.Length, f.LastWriteTimeUtc));

    public BlobDeletion DeleteIfStoredBefore(string id, DateTimeOffset cutoff)
    {
        if (PathOf(id) is not { } path) return BlobDeletion.Absent;
        // Moved aside first, by a rename (File.Move with overwrite is rename(2): atomic locally, on NFS and SMB, where a
        // move without overwrite may copy): an upload committing from now on finds no file and puts its own copy in place.
        var aside = Path.Combine(_tmp, $"{id}{AsideMark}{Guid.NewGuid():N}");
        try
        {
            File.Move(path, aside, overwrite: true);
        }
        catch (FileNotFoundException)
        {
            return BlobDeletion.Absent;
        }
        _whileAside?.Invoke(id);
        // Renewed by an upload just before the move: it goes back (over a copy put in place since: the same bytes).
        // The time is read through an open handle, which makes NFS fetch it again rather than trust its cache.
        DateTime storedAt;
        using (var handle = File.OpenHandle(aside)) storedAt = File.GetLastWriteTimeUtc(handle);
        if (storedAt >= cutoff.UtcDateTime)
        {
            File.Move(aside, path, overwrite: true);
            return BlobDeletion.Kept;
        }
        File.Delete(aside);
        return BlobDeletion.Deleted;
    }

    public void RecoverSetAside()
    {
        foreach (var aside in Directory.EnumerateFiles(_tmp, "*" + AsideMark + "*"))
        {
            var id = Path.GetFileName(aside)[..Path.GetFileName(aside).IndexOf(AsideMark, StringComparison.Ordinal)];
            if (PathOf(id) is not { } path) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // Its collection did not finish: it is collected again from its place, unless a copy is there already.
            try
            {
                File.Move(aside, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(aside);
            }
            catch (FileNotFoundException)
            {
            }
        }
    }

    private string? PathOf(string id) => IsSha256(id) ? Path.Combine(_blobs, id[..2], id) : null;

    public static bool IsSha256(string id) => id.Length == 64 && id.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0;
}
