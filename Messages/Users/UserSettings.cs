namespace Natter.Messages.Users;

/// <summary>Who may see a user's online status and last seen (WhatsApp's privacy choices).</summary>
public enum Visibility
{
    Everyone = 1,
    /// <summary>Users who share a direct chat with them.</summary>
    Contacts = 2,
    Nobody = 3,
}

/// <summary>A user's preferences, the same on every device. Only ever extended, with defaults.</summary>
public sealed record UserSettings(
    string Theme = "system",
    Visibility LastSeen = Visibility.Everyone,
    bool Notifications = true,
    bool NotificationPreview = true)
{
    public static readonly IReadOnlyList<string> Themes = ["system", "light", "dark"];
}

/// <summary>
/// Where a device receives push notifications: <see cref="Platform"/> is fcm, apns, webpush or email. The device's push
/// keys (base64url, RFC 8291: a Web Push subscription's, or an app's own for FCM and APNs), when given, let pushes carry
/// the notification encrypted, and nothing about the chat in the clear.
/// </summary>
public sealed record PushRegistration(DeviceId Device, string Platform, string Token, string? P256dh = null, string? Auth = null);

/// <summary>A muted chat: no notifications until <see cref="Until"/> (null: until unmuted).</summary>
public sealed record MutedChat(ChatId ChatId, DateTimeOffset? Until);

/// <summary>A blob this user uploaded: what counts against their quota and what they may always download.</summary>
public sealed record UploadedMedia(string BlobId, long Size, string ContentType);

/// <summary>
/// The account's current backup: an uploaded blob (ciphertext the client made, docs/e2ee.md §10) that the
/// media collector keeps while it is current. One per account; a newer one replaces it.
/// </summary>
public sealed record StoredBackup(string BlobId, long Size, DeviceId By, DateTimeOffset At);
