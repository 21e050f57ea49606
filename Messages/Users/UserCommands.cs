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

    /// <summary>
    /// Where one device gets push notifications; <see cref="P256dh"/> and <see cref="Auth"/> (checked by the edge), both or
    /// neither, the device's push keys (not with email): pushes then carry the notification encrypted to them. Replies <see cref="UserReplies.Profile"/>.
    /// </summary>
    public sealed record RegisterPush(UserId UserId, DeviceId Device, string Platform, string Token, string? P256dh = null, string? Auth = null)
        : IUserCommand;

    /// <summary>
    /// The device gets no more push notifications. With <see cref="Token"/> (a push provider said the registration is
    /// gone: app uninstalled, subscription expired), only if the device still has that token, not a newer one it
    /// registered since. Replies <see cref="UserReplies.Profile"/>.
    /// </summary>
    public sealed record UnregisterPush(UserId UserId, DeviceId Device, string? Token = null) : IUserCommand;

    /// <summary>Counts an upload against the quota (refused past <see cref="QuotaBytes"/>); idempotent per blob. Replies <see cref="UserReplies.Uploads"/>.</summary>
    public sealed record RecordUpload(UserId UserId, UploadedMedia Media, long QuotaBytes) : IUserCommand;

    public sealed record ForgetUpload(UserId UserId, string BlobId) : IUserCommand;

    /// <summary>Makes one of the user's uploads their backup (replacing any earlier one). Replies <see cref="UserReplies.Backup"/>.</summary>
    public sealed record RecordBackup(UserId UserId, DeviceId Device, string BlobId, DateTimeOffset At) : IUserCommand;

    /// <summary>The user has no backup any more; its blob is collected like any unreferenced upload. Replies <see cref="UserReplies.Backup"/>.</summary>
    public sealed record DeleteBackup(UserId UserId, DeviceId Device, DateTimeOffset At) : IUserCommand;

    /// <summary>
    /// Removes <see cref="Device"/>: the primary device (the account's oldest) may remove any other, a linked
    /// device only itself. Replies <see cref="UserReplies.Account"/>.
    /// </summary>
    public sealed record RemoveDevice(UserId UserId, DeviceId By, DeviceId Device, DateTimeOffset At) : IUserCommand;

    /// <summary>From the user's PresenceActor; keeps the latest. Replies <see cref="UserReplies.Profile"/>.</summary>
    public sealed record RecordLastSeen(UserId UserId, DateTimeOffset At) : IUserCommand;

    /// <summary>
    /// Publishes the device's keys: identity (only a different one replaces the old, and drops its prekeys),
    /// signed prekey, and one-time prekeys added to those left. Signatures are checked by the edge.
    /// Replies <see cref="UserReplies.KeysStatus"/>.
    /// </summary>
    public sealed record PublishKeys(UserId UserId, DeviceId Device, byte[] IdentityKey, byte[] IdentityDhKey,
        byte[] IdentityDhSignature, SignedPreKey SignedPreKey, IReadOnlyList<OneTimePreKey> OneTimePreKeys, DateTimeOffset At) : IUserCommand;

    /// <summary>
    /// A bundle for <see cref="Device"/> (or every keyed device when null), each with one one-time prekey
    /// handed out for good. Replies <see cref="UserReplies.Bundles"/>.
    /// </summary>
    public sealed record ClaimBundles(UserId UserId, DeviceId? Device, DateTimeOffset At) : IUserCommand;

    /// <summary>A new device asks to be linked. Replies <see cref="UserReplies.LinkStarted"/>.</summary>
    public sealed record RequestLink(UserId UserId, string LinkId, string DeviceName, string ApprovalHash,
        string DeviceSecretHash, DateTimeOffset At, DateTimeOffset ExpiresAt) : IUserCommand;

    /// <summary>An existing device approves a pending link with the code the new device shows. Replies <see cref="UserReplies.Account"/>.</summary>
    /// <remarks>
    /// With an <see cref="Endorsement"/> (checked by the edge against its account key) the new device may publish that
    /// identity key only; without one it may publish none (an account whose devices do not encrypt end to end).
    /// </remarks>
    /// <remarks>
    /// An account with a signed device list needs a new one with the endorsed key in it (<see cref="DeviceList"/>), or
    /// contacts who saw the list would refuse the new device.
    /// </remarks>
    public sealed record ApproveLink(UserId UserId, DeviceId By, string LinkId, string ApprovalHash, DateTimeOffset At,
        DeviceEndorsement? Endorsement = null, SignedDeviceList? DeviceList = null) : IUserCommand;

    /// <summary>
    /// The primary's signed list of the account's devices (signature checked by the edge), replacing an older one.
    /// Replies <see cref="UserReplies.KeyedDevices"/>.
    /// </summary>
    public sealed record PublishDeviceList(UserId UserId, DeviceId By, SignedDeviceList List, DateTimeOffset At) : IUserCommand;

    /// <summary>Queues ciphertext for another device of the same user. Replies <see cref="UserReplies.DeviceMessageSent"/>.</summary>
    public sealed record SendDeviceMessage(UserId UserId, DeviceId From, DeviceId To, byte[] Data, DateTimeOffset At) : IUserCommand;

    /// <summary>The device has the messages of its inbox up to <see cref="UpToId"/>. Replies <see cref="UserReplies.DeviceInbox"/> (what is left).</summary>
    public sealed record AckDeviceMessages(UserId UserId, DeviceId Device, long UpToId) : IUserCommand;

    /// <summary>The new device collects its device id once approved (once). Replies <see cref="UserReplies.DeviceLinked"/>.</summary>
    public sealed record CompleteLink(UserId UserId, string LinkId, string DeviceSecretHash, DateTimeOffset At) : IUserCommand;
}

public static class UserQueries
{
    public sealed record GetAccount(UserId UserId) : IWithUserId;

    public sealed record GetChatList(UserId UserId) : IWithUserId;

    /// <summary>Settings, mutes, push registrations, last seen and contacts. Replies <see cref="UserReplies.Profile"/>.</summary>
    public sealed record GetProfile(UserId UserId) : IWithUserId;

    /// <summary>The user's uploads and their total size. Replies <see cref="UserReplies.Uploads"/>.</summary>
    public sealed record GetUploads(UserId UserId) : IWithUserId;

    /// <summary>The user's current backup, if any. Replies <see cref="UserReplies.Backup"/>.</summary>
    public sealed record GetBackup(UserId UserId) : IWithUserId;

    /// <summary>The keys status of one device. Replies <see cref="UserReplies.KeysStatus"/>.</summary>
    public sealed record GetKeysStatus(UserId UserId, DeviceId Device) : IWithUserId;

    /// <summary>The devices that published keys, with their identity keys. Replies <see cref="UserReplies.KeyedDevices"/>.</summary>
    public sealed record GetKeyedDevices(UserId UserId) : IWithUserId;

    /// <summary>The messages waiting for one device. Replies <see cref="UserReplies.DeviceInbox"/>.</summary>
    public sealed record GetDeviceInbox(UserId UserId, DeviceId Device) : IWithUserId;

    /// <summary>Links waiting for approval. Replies <see cref="UserReplies.PendingLinks"/>.</summary>
    public sealed record GetPendingLinks(UserId UserId, DateTimeOffset At) : IWithUserId;
}

public static class UserReplies
{
    public sealed record VerificationIssued(UserId UserId, DateTimeOffset ExpiresAt) : INatterMessage;

    public sealed record DeviceLinked(UserId UserId, DeviceId DeviceId, bool NewAccount, DeviceEndorsement? Endorsement = null) : INatterMessage;

    public sealed record UserRejected(UserId UserId, string Code, string Reason) : INatterMessage;

    public sealed record ChatListed(UserId UserId, ChatId ChatId) : INatterMessage;

    public sealed record Account(UserId UserId, bool Exists, IReadOnlyList<DeviceInfo> Devices) : INatterMessage;

    public sealed record ChatList(UserId UserId, IReadOnlyList<ChatId> Chats) : INatterMessage;

    public sealed record Uploads(UserId UserId, IReadOnlyList<UploadedMedia> Media, long TotalBytes) : INatterMessage;

    public sealed record Backup(UserId UserId, StoredBackup? Current) : INatterMessage;

    public sealed record KeysStatus(UserId UserId, DeviceId Device, bool Published, uint SignedPreKeyId, int OneTimePreKeysLeft,
        IReadOnlyList<uint> OneTimePreKeyIds) : INatterMessage;

    /// <summary>Bundles handed out, with the account's signed device list when it has one.</summary>
    public sealed record Bundles(UserId UserId, IReadOnlyList<PreKeyBundle> Items, SignedDeviceList? DeviceList = null) : INatterMessage;

    /// <summary>The devices able to receive end-to-end encrypted messages (they published keys), and the account's signed list.</summary>
    public sealed record KeyedDevices(UserId UserId, bool Exists, IReadOnlyList<DeviceKeyIdentity> Devices,
        SignedDeviceList? DeviceList = null) : INatterMessage;

    public sealed record DeviceKeyIdentity(DeviceId Device, byte[] IdentityKey, byte[] IdentityDhKey, byte[] IdentityDhSignature,
        bool Primary = false, byte[]? AccountSignature = null);

    public sealed record LinkStarted(UserId UserId, string LinkId, DateTimeOffset ExpiresAt) : INatterMessage;

    public sealed record PendingLinks(UserId UserId, IReadOnlyList<PendingLink> Links) : INatterMessage;

    public sealed record DeviceMessageSent(UserId UserId, long Id) : INatterMessage;

    public sealed record DeviceInbox(UserId UserId, DeviceId Device, IReadOnlyList<DeviceMessage> Messages) : INatterMessage;

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
