namespace Natter.Messages.Users;

public static class UserCommands
{
    public interface IUserCommand : IWithUserId;

    /// <summary>Stores the hash of a verification code the edge generated and sent. Replies <see cref="UserReplies.VerificationIssued"/>.</summary>
    public sealed record IssueVerification(UserId UserId, string CodeHash, DateTimeOffset ExpiresAt) : IUserCommand;

    /// <summary>Checks a code and, if right, creates the account (first time) and a new device.</summary>
    public sealed record VerifyAndLinkDevice(UserId UserId, string CodeHash, string DeviceName, DateTimeOffset At)
        : IUserCommand;

    /// <summary>Adds a chat to the user's chat list; idempotent. Replies <see cref="UserReplies.ChatListed"/>.</summary>
    public sealed record ListChat(UserId UserId, ChatId ChatId) : IUserCommand;

    /// <summary>Replaces the user's settings. Replies <see cref="UserReplies.Profile"/>.</summary>
    public sealed record ChangeSettings(UserId UserId, UserSettings Settings, DateTimeOffset At) : IUserCommand;

    /// <summary>Mutes (until a time, or indefinitely) or unmutes one chat's notifications. Replies <see cref="UserReplies.Profile"/>.</summary>
    public sealed record MuteChat(UserId UserId, ChatId ChatId, bool Muted, DateTimeOffset? Until) : IUserCommand;

    /// <summary>Where one device gets push notifications. Replies <see cref="UserReplies.Profile"/>.</summary>
    public sealed record RegisterPush(UserId UserId, DeviceId Device, string Platform, string Token) : IUserCommand;

    /// <summary>Counts an upload against the quota (refused past <see cref="QuotaBytes"/>); idempotent per blob. Replies <see cref="UserReplies.Uploads"/>.</summary>
    public sealed record RecordUpload(UserId UserId, UploadedMedia Media, long QuotaBytes) : IUserCommand;

    public sealed record ForgetUpload(UserId UserId, string BlobId) : IUserCommand;

    /// <summary>
    /// Removes <see cref="Device"/>: the primary device (the account's oldest) may remove any other, a linked
    /// device only itself. Replies <see cref="UserReplies.Account"/>.
    /// </summary>
    public sealed record RemoveDevice(UserId UserId, DeviceId By, DeviceId Device, DateTimeOffset At) : IUserCommand;

    /// <summary>From the user's PresenceActor; keeps the latest. Replies <see cref="UserReplies.Profile"/>.</summary>
    public sealed record RecordLastSeen(UserId UserId, DateTimeOffset At) : IUserCommand;
}

public static class UserQueries
{
    public sealed record GetAccount(UserId UserId) : IWithUserId;

    public sealed record GetChatList(UserId UserId) : IWithUserId;

    /// <summary>Settings, mutes, push registrations, last seen and contacts. Replies <see cref="UserReplies.Profile"/>.</summary>
    public sealed record GetProfile(UserId UserId) : IWithUserId;

    /// <summary>The user's uploads and their total size. Replies <see cref="UserReplies.Uploads"/>.</summary>
    public sealed record GetUploads(UserId UserId) : IWithUserId;
}

public static class UserReplies
{
    public sealed record VerificationIssued(UserId UserId, DateTimeOffset ExpiresAt) : INatterMessage;

    public sealed record DeviceLinked(UserId UserId, DeviceId DeviceId, bool NewAccount) : INatterMessage;

    public sealed record UserRejected(UserId UserId, string Code, string Reason) : INatterMessage;

    public sealed record ChatListed(UserId UserId, ChatId ChatId) : INatterMessage;

    public sealed record Account(UserId UserId, bool Exists, IReadOnlyList<DeviceInfo> Devices) : INatterMessage;

    public sealed record ChatList(UserId UserId, IReadOnlyList<ChatId> Chats) : INatterMessage;

    public sealed record Uploads(UserId UserId, IReadOnlyList<UploadedMedia> Media, long TotalBytes) : INatterMessage;

    /// <summary>
    /// What presence and notifications need of a user. <see cref="Contacts"/> are the users they share a
    /// direct chat with: they may see "contacts-only" presence and are told when it changes.
    /// </summary>
    public sealed record Profile(
        UserId UserId,
        bool Exists,
        UserSettings Settings,
        IReadOnlyList<MutedChat> Muted,
        IReadOnlyList<PushRegistration> Push,
        DateTimeOffset? LastSeen,
        IReadOnlyList<UserId> Contacts) : INatterMessage;
}
