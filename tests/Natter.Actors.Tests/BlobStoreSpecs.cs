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

        // Stored again (the same bytes uploaded anew) after the cutoff: it stays, in place.
        Assert.False(_store.DeleteIfStoredBefore(blob.Id, blob.StoredAt.AddMinutes(-1)));
        Assert.NotNull(_store.Find(blob.Id));

        Assert.True(_store.DeleteIfStoredBefore(blob.Id, DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Null(_store.Find(blob.Id));
        Assert.False(_store.DeleteIfStoredBefore(blob.Id, DateTimeOffset.UtcNow.AddMinutes(1)));
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
        Assert.False(_store.DeleteIfStoredBefore(blob.Id, DateTimeOffset.UtcNow.AddDays(-1)));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "tmp")));
    }
}
