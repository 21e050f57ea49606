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

    /// <summary>When the user was last online (written as they come online and as their last device goes).</summary>
    public sealed record LastSeenRecorded(UserId UserId, DateTimeOffset At) : IUserEvent;

    public sealed record MediaUploaded(UserId UserId, UploadedMedia Media) : IUserEvent;

    /// <summary>The device was removed: its tokens stop working and its id is never given out again.</summary>
    public sealed record DeviceRemoved(UserId UserId, DeviceId DeviceId, DeviceId By, DateTimeOffset At) : IUserEvent;

    /// <summary>The blob was collected (no message referenced it): it no longer counts against the quota.</summary>
    public sealed record MediaForgotten(UserId UserId, string BlobId) : IUserEvent;
}
