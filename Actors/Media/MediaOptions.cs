namespace Natter.Actors.Media;

/// <summary>Media storage and limits, bound from configuration section Natter:Media.</summary>
public sealed record MediaOptions
{
    /// <summary>Blob store folder; empty: <c>{Natter:Persistence:DataDirectory}/media</c>.</summary>
    public string? Root { get; init; }

    /// <summary>Largest file (WhatsApp's limit is 2 GiB).</summary>
    public long MaxBytes { get; init; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Bytes of media one user may have stored.</summary>
    public long QuotaBytes { get; init; } = 20L * 1024 * 1024 * 1024;

    /// <summary>A blob no message references is deleted once it is this old.</summary>
    public TimeSpan GcGracePeriod { get; init; } = TimeSpan.FromHours(24);

    /// <summary>How often unreferenced blobs and abandoned uploads are collected.</summary>
    public TimeSpan GcInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>A resumable upload not touched for this long is abandoned.</summary>
    public TimeSpan UploadTtl { get; init; } = TimeSpan.FromHours(24);
}
