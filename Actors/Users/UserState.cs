using Natter.Messages;
using Natter.Messages.Users;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserEvents;

namespace Natter.Actors.Users;

/// <summary>
/// An account: its devices, its chat list and a pending verification code (only its hash).
/// Pure: decisions read the clock from the command, never from the machine.
/// </summary>
public sealed record UserState(
    UserId Id,
    bool Exists,
    IReadOnlyList<DeviceInfo> Devices,
    int LastDeviceId,
    IReadOnlyList<ChatId> Chats,
    string? PendingCodeHash,
    DateTimeOffset? PendingCodeExpiresAt,
    int FailedAttempts) : INatterMessage
{
    public const int MaxDevices = 5;
    public const int MaxAttempts = 5;

    public static UserState Empty(UserId id) => new(id, false, [], 0, [], null, null, 0);

    /// <summary>Events for a command, or the refusal (code, reason).</summary>
    public (IReadOnlyList<IUserEvent> Events, (string Code, string Reason)? Rejection) Decide(IUserCommand command) => command switch
    {
        IssueVerification i => ([new VerificationCodeIssued(Id, i.CodeHash, i.ExpiresAt)], null),
        VerifyAndLinkDevice v => DecideVerify(v),
        ListChat l when Chats.Contains(l.ChatId) => ([], null),
        ListChat l => ([new ChatJoined(Id, l.ChatId)], null),
        _ => ([], ("unknown_command", command.GetType().Name)),
    };

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecideVerify(VerifyAndLinkDevice v)
    {
        if (PendingCodeHash is null) return ([], (UserRejections.NoPendingCode, "request a verification code first"));
        if (FailedAttempts >= MaxAttempts) return ([], (UserRejections.TooManyAttempts, "too many wrong codes; request a new one"));
        if (v.At > PendingCodeExpiresAt) return ([], (UserRejections.CodeExpired, "the verification code expired; request a new one"));
        if (!CryptographicEquals(PendingCodeHash, v.CodeHash))
            return ([new VerificationAttemptFailed(Id, v.At)], (UserRejections.WrongCode, "wrong verification code"));
        if (Devices.Count >= MaxDevices) return ([], (UserRejections.TooManyDevices, $"an account has at most {MaxDevices} devices"));

        var device = new DeviceRegistered(Id, new DeviceId(LastDeviceId + 1), v.DeviceName, v.At);
        return Exists ? ([device], null) : ([new AccountCreated(Id, v.At), device], null);
    }

    public UserState Apply(IUserEvent @event) => @event switch
    {
        VerificationCodeIssued i => this with { PendingCodeHash = i.CodeHash, PendingCodeExpiresAt = i.ExpiresAt, FailedAttempts = 0 },
        VerificationAttemptFailed => this with { FailedAttempts = FailedAttempts + 1 },
        AccountCreated => this with { Exists = true },
        DeviceRegistered d => this with
        {
            Devices = [.. Devices, new DeviceInfo(d.DeviceId, d.Name, d.At)],
            LastDeviceId = d.DeviceId.Value,
            PendingCodeHash = null,
            PendingCodeExpiresAt = null,
            FailedAttempts = 0,
        },
        ChatJoined j => this with { Chats = [.. Chats, j.ChatId] },
        _ => this,
    };

    private static bool CryptographicEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(a), System.Text.Encoding.ASCII.GetBytes(b));
}
