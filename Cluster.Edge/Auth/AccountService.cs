using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Options;
using Natter.Actors.Connections;
using Natter.Actors.Hosting;
using Natter.Messages;
using Natter.Messages.Protocol;
using Natter.Messages.Users;

namespace Natter.Cluster.Edge.Auth;

public sealed record RegistrationStarted(string UserId, DateTimeOffset ExpiresAt);

public sealed record DeviceSession(string UserId, int DeviceId, string AccessToken, DateTimeOffset ExpiresAt, bool NewAccount);

/// <summary>Registration and device login: a code sent to the phone, then a device and its access token.</summary>
public sealed class AccountService(
    IRequiredActor<UserRegion> users,
    IVerificationCodeSender sender,
    AccessTokens tokens,
    IOptions<AuthOptions> options,
    IOptions<ConnectionSettings> limits,
    TimeProvider clock)
{
    private TimeSpan AskTimeout => limits.Value.AskTimeout;

    public async Task<(RegistrationStarted? Started, string? Code, string? Error)> RequestCodeAsync(string? phone, CancellationToken ct)
    {
        if (UserId.FromPhoneNumber(phone) is not { } user)
            return (null, ErrorCodes.InvalidField, "'phone' must be an E.164 phone number, like +15551230001");
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6");
        var expiresAt = clock.GetUtcNow().Add(options.Value.CodeLifetime);
        var region = await users.GetAsync(ct);
        try
        {
            await region.Ask<UserReplies.VerificationIssued>(new UserCommands.IssueVerification(user, Hash(user, code), expiresAt), AskTimeout, ct);
        }
        catch (AskTimeoutException)
        {
            return (null, ErrorCodes.Unavailable, "the cluster did not answer in time; retry");
        }
        await sender.SendAsync(user, code, ct);
        return (new RegistrationStarted(user.Value, expiresAt), null, null);
    }

    public async Task<(DeviceSession? Session, string? Code, string? Error)> VerifyAsync(string? phone, string? code, string? deviceName, CancellationToken ct)
    {
        if (UserId.FromPhoneNumber(phone) is not { } user)
            return (null, ErrorCodes.InvalidField, "'phone' must be an E.164 phone number, like +15551230001");
        if (string.IsNullOrWhiteSpace(code)) return (null, ErrorCodes.MissingField, "'code' is required");
        var name = string.IsNullOrWhiteSpace(deviceName) ? "device" : deviceName.Trim()[..Math.Min(deviceName.Trim().Length, 64)];

        var region = await users.GetAsync(ct);
        object reply;
        try
        {
            reply = await region.Ask<object>(new UserCommands.VerifyAndLinkDevice(user, Hash(user, code.Trim()), name, clock.GetUtcNow()), AskTimeout, ct);
        }
        catch (AskTimeoutException)
        {
            return (null, ErrorCodes.Unavailable, "the cluster did not answer in time; retry");
        }
        if (reply is UserReplies.UserRejected rejected) return (null, rejected.Code, rejected.Reason);
        var linked = (UserReplies.DeviceLinked)reply;
        var (token, expiresAt) = tokens.Issue(user, linked.DeviceId, options.Value.TokenLifetime);
        return (new DeviceSession(user.Value, linked.DeviceId.Value, token, expiresAt, linked.NewAccount), null, null);
    }

    // Salted with the user id so one table of hashes does not serve every account.
    private static string Hash(UserId user, string code) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{user.Value}:{code}")));
}
