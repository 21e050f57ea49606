using System.Security.Cryptography;
using Natter.Actors.Media;
using Natter.Testing;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>The local blob store's delete against uploads of the same bytes (the collector's race with a new upload).</summary>
public sealed class BlobStoreSpecs : IDisposable
{
    private readonly string _root = TempDirectory.Create("natter-blobs");
    private readonly LocalBlobStore _store;

    public BlobStoreSpecs() => _store = new LocalBlobStore(_root);

    public void Dispose() => TempDirectory.Delete(_root);

    private BlobInfo Store(byte[] bytes)
    {
        var temp = _store.NewTempPath();
        File.WriteAllBytes(temp, bytes);
        return _store.Commit(temp, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    [Fact]
    public void A_blob_stored_before_the_cutoff_is_deleted_and_one_stored_again_since_stays()
    {
        var bytes = RandomNumberGenerator.GetBytes(100);
        var blob = Store(bytes);

        // Stored (or stored again) at or after the cutoff: it stays, in place.
        Assert.Equal(BlobDeletion.Kept, _store.DeleteIfStoredBefore(blob.Id, blob.StoredAt.AddMinutes(-1)));
        Assert.NotNull(_store.Find(blob.Id));

        Assert.Equal(BlobDeletion.Deleted, _store.DeleteIfStoredBefore(blob.Id, DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Null(_store.Find(blob.Id));
        Assert.Equal(BlobDeletion.Absent, _store.DeleteIfStoredBefore(blob.Id, DateTimeOffset.UtcNow.AddMinutes(1)));
        // Nothing left aside, and the same bytes stored again afterwards are a new copy.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "tmp")));
        Assert.Equal(bytes, File.ReadAllBytes(Directory.EnumerateFiles(Path.Combine(_root, "blobs"), Store(bytes).Id, SearchOption.AllDirectories).Single()));
    }

    [Fact]
    public void Storing_the_same_bytes_again_renews_the_blob_s_time()
    {
        var bytes = RandomNumberGenerator.GetBytes(100);
        var blob = Store(bytes);
        var path = Directory.EnumerateFiles(Path.Combine(_root, "blobs"), blob.Id, SearchOption.AllDirectories).Single();
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-3));

        var again = Store(bytes);

        Assert.True(DateTimeOffset.UtcNow - again.StoredAt < TimeSpan.FromMinutes(1));
        Assert.Equal(BlobDeletion.Kept, _store.DeleteIfStoredBefore(blob.Id, DateTimeOffset.UtcNow.AddDays(-1)));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "tmp")));
    }

    [Fact]
    public void An_upload_committed_while_the_old_copy_is_set_aside_puts_its_own_copy_in_place()
    {
        var bytes = RandomNumberGenerator.GetBytes(100);
        var root = TempDirectory.Create("natter-blobs");
        try
        {
            LocalBlobStore store = null!;
            var committed = false;
            store = new LocalBlobStore(root, whileAside: _ =>
            {
                var temp = store.NewTempPath();
                File.WriteAllBytes(temp, bytes);
                store.Commit(temp, Convert.ToHexStringLower(SHA256.HashData(bytes)));
                committed = true;
            });
            var first = store.NewTempPath();
            File.WriteAllBytes(first, bytes);
            var blob = store.Commit(first, Convert.ToHexStringLower(SHA256.HashData(bytes)));

            // The old copy goes; the upload's copy, committed meanwhile, is in place with its bytes.
            Assert.Equal(BlobDeletion.Deleted, store.DeleteIfStoredBefore(blob.Id, DateTimeOffset.UtcNow.AddMinutes(1)));
            Assert.True(committed);
            Assert.NotNull(store.Find(blob.Id));
            using var read = store.OpenRead(blob.Id);
            using var copy = new MemoryStream();
            read.CopyTo(copy);
            Assert.Equal(bytes, copy.ToArray());
        }
        finally
        {
            TempDirectory.Delete(root);
        }
    }

    [Fact]
    public void A_blob_set_aside_by_a_delete_that_never_finished_goes_back()
    {
        var blob = Store(RandomNumberGenerator.GetBytes(100));
        var path = Directory.EnumerateFiles(Path.Combine(_root, "blobs"), blob.Id, SearchOption.AllDirectories).Single();
        // As a delete leaves it when its process stops between setting aside and deleting.
        File.Move(path, Path.Combine(_root, "tmp", $"{blob.Id}.deleting-0123"));
        File.SetLastWriteTimeUtc(Path.Combine(_root, "tmp", $"{blob.Id}.deleting-0123"), DateTime.UtcNow.AddDays(-3));

        Assert.Equal(0, _store.DeleteTempFilesOlderThan(DateTimeOffset.UtcNow));
        _store.RecoverSetAside();

        Assert.NotNull(_store.Find(blob.Id));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "tmp")));
    }
}
