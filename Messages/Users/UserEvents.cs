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
}
