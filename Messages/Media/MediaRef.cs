namespace Natter.Messages.Media;

/// <summary>
/// A message's attachment: a stored blob (<see cref="Id"/> is its SHA-256 in hex), its size and declared content
/// type, an optional small inline thumbnail and a caption. With end-to-end encryption the blob, thumbnail and
/// caption are ciphertext; the server needs only the id to authorize downloads and keep the blob alive.
/// </summary>
public sealed record MediaRef(string Id, long Size, string ContentType, byte[]? Thumbnail = null, string? Caption = null)
{
    public const int MaxThumbnailBytes = 16 * 1024;
    public const int MaxCaptionLength = 1024;
}

/// <summary>A live-location share: the message starts it; position updates are ephemeral until <see cref="Until"/>.</summary>
public sealed record LiveLocation(DateTimeOffset Until);
