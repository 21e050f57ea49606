namespace Natter.Messages.Users;

public static class UserEvents
{
    public interface IUserEvent : INatterEvent, IWithUserId;

    public sealed record VerificationCodeIssued(UserId UserId, string CodeHash, DateTimeOffset ExpiresAt) : IUserEvent;

    public sealed record VerificationAttemptFailed(UserId UserId, DateTimeOffset At) : IUserEvent;

    public sealed record AccountCreated(UserId UserId, DateTimeOffset At) : IUserEvent;

    /// <summary>Also consumes the pending verification code.</summary>
    public sealed record DeviceRegistered(UserId UserId, DeviceId DeviceId, string Name, DateTimeOffset At) : IUserEvent;

    public sealed record ChatJoined(UserId UserId, ChatId ChatId) : IUserEvent;

    public sealed record SettingsChanged(UserId UserId, UserSettings Settings, DateTimeOffset At) : IUserEvent;

    /// <summary>Muted until <see cref="Until"/>; unmuted when <see cref="Muted"/> is false.</summary>
    public sealed record ChatMuteChanged(UserId UserId, ChatId ChatId, bool Muted, DateTimeOffset? Until) : IUserEvent;

    public sealed record PushRegistered(UserId UserId, PushRegistration Registration) : IUserEvent;

    /// <summary>The device's push registration was removed: by the device, or because its provider said it is gone.</summary>
    public sealed record PushUnregistered(UserId UserId, DeviceId Device, bool Gone) : IUserEvent;

    /// <summary>When the user was last online (written as they come online and as their last device goes).</summary>
    public sealed record LastSeenRecorded(UserId UserId, DateTimeOffset At) : IUserEvent;

    public sealed record MediaUploaded(UserId UserId, UploadedMedia Media) : IUserEvent;

    /// <summary>The device was removed: its tokens stop working and its id is never given out again.</summary>
    public sealed record DeviceRemoved(UserId UserId, DeviceId DeviceId, DeviceId By, DateTimeOffset At) : IUserEvent;

    /// <summary>The blob was collected (no message referenced it): it no longer counts against the quota.</summary>
    public sealed record MediaForgotten(UserId UserId, string BlobId) : IUserEvent;

    /// <summary>The account's backup is now this blob (an earlier one is no longer referenced).</summary>
    public sealed record BackupStored(UserId UserId, StoredBackup Backup) : IUserEvent;

    public sealed record BackupDeleted(UserId UserId, DeviceId By, DateTimeOffset At) : IUserEvent;

    /// <summary>
    /// A device's keys. <see cref="First"/>: the device published for the first time (it can now receive
    /// encrypted messages). <see cref="IdentityChanged"/>: it replaced an earlier, different identity key (its
    /// one-time prekeys were dropped with it). One-time prekeys here are added to those left.
    /// </summary>
    public sealed record DeviceKeysPublished(UserId UserId, DeviceId Device, byte[] IdentityKey, byte[] IdentityDhKey,
        byte[] IdentityDhSignature, SignedPreKey SignedPreKey, IReadOnlyList<OneTimePreKey> OneTimePreKeys,
        bool First, bool IdentityChanged, DateTimeOffset At) : IUserEvent;

    /// <summary>One-time prekeys handed out (each only once).</summary>
    public sealed record PreKeysClaimed(UserId UserId, IReadOnlyList<PreKeyClaim> Claims, DateTimeOffset At) : IUserEvent;

    public sealed record LinkRequested(UserId UserId, PendingLink Link) : IUserEvent;

    /// <summary>Followed by the <see cref="DeviceRegistered"/> of the new device.</summary>
    public sealed record LinkApproved(UserId UserId, string LinkId, DeviceId By, DeviceId Device, DateTimeOffset At,
        DeviceEndorsement? Endorsement = null) : IUserEvent;

    /// <summary>The primary signed a new list of the account's devices (with the approval it came with, if any).</summary>
    public sealed record DeviceListPublished(UserId UserId, DeviceId By, SignedDeviceList List, DateTimeOffset At) : IUserEvent;

    /// <summary>The new device collected its session; the link is gone.</summary>
    public sealed record LinkCompleted(UserId UserId, string LinkId, DateTimeOffset At) : IUserEvent;

    public sealed record DeviceMessageQueued(UserId UserId, DeviceMessage Message) : IUserEvent;

    public sealed record DeviceMessagesAcked(UserId UserId, DeviceId Device, long UpToId) : IUserEvent;
}
