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
}

public static class UserQueries
{
    public sealed record GetAccount(UserId UserId) : IWithUserId;

    public sealed record GetChatList(UserId UserId) : IWithUserId;
}

public static class UserReplies
{
    public sealed record VerificationIssued(UserId UserId, DateTimeOffset ExpiresAt) : INatterMessage;

    public sealed record DeviceLinked(UserId UserId, DeviceId DeviceId, bool NewAccount) : INatterMessage;

    public sealed record UserRejected(UserId UserId, string Code, string Reason) : INatterMessage;

    public sealed record ChatListed(UserId UserId, ChatId ChatId) : INatterMessage;

    public sealed record Account(UserId UserId, bool Exists, IReadOnlyList<DeviceInfo> Devices) : INatterMessage;

    public sealed record ChatList(UserId UserId, IReadOnlyList<ChatId> Chats) : INatterMessage;
}
