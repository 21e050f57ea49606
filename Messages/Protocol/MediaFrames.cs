using Natter.Messages.Media;

namespace Natter.Messages.Protocol;

/// <summary>Checks and conversions of the attachment a send carries.</summary>
public static class MediaFrames
{
    /// <summary>What is wrong with an attachment, or null when it is well-formed.</summary>
    public static string? Problem(MediaFrame media) => media switch
    {
        { Id: null } or { ContentType: null } => "'media' needs 'id', 'size' and 'contentType'",
        _ when media.Id.Length != 64 || media.Id.AsSpan().IndexOfAnyExcept("0123456789abcdef") >= 0 =>
            "'media.id' must be the blob's SHA-256 in lowercase hex",
        { Size: < 0 } => "'media.size' must be >= 0",
        _ when media.ContentType.Length is 0 or > 255 => "'media.contentType' must be 1 to 255 characters",
        { Thumbnail.Length: > MediaRef.MaxThumbnailBytes } => $"'media.thumbnail' is at most {MediaRef.MaxThumbnailBytes} bytes",
        { Caption.Length: > MediaRef.MaxCaptionLength } => $"'media.caption' is at most {MediaRef.MaxCaptionLength} characters",
        _ => null,
    };

    public static MediaRef ToRef(MediaFrame m) => new(m.Id, m.Size, m.ContentType, m.Thumbnail, m.Caption);

    public static MediaFrame ToFrame(MediaRef m) => new(m.Id, m.Size, m.ContentType, m.Thumbnail, m.Caption);
}
