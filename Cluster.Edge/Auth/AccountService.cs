using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Options;
using Natter.Actors.Connections;
using Natter.Actors.Hosting;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Protocol;
using Natter.Messages.Users;

namespace Natter.Cluster.Edge.Auth;

public sealed record RegistrationStarted(string UserId, DateTimeOffset ExpiresAt);

/// <summary>What a device asking to be linked gets: the code to show, and the secret to keep.</summary>
public sealed record LinkRequest(string LinkId, string ApprovalCode, string DeviceSecret, DateTimeOffset ExpiresAt);

public sealed record DeviceSession(string UserId, int DeviceId, string AccessToken, DateTimeOffset ExpiresAt, bool NewAccount,
    DeviceEndorsementView? Endorsement = null);

/// <summary>Registration and device login: a code sent to the phone, then a device and its access token.</summary>
public sealed class AccountService(
    IRequiredActor<UserRegion> users,
    IVerificationCodeSender sender,
    AccessTokens tokens,
    IOptions<AuthOptions> options,
    IOptions<ConnectionSettings> limits,
    TimeProvider clock,
    KeyedDeviceCache? keyedDevices = null)
{
    private TimeSpan AskTimeout => limits.Value.AskTimeout;

    public async Task<(RegistrationStarted? Started, string? Code, string? Error)> RequestCodeAsync(string? phone, CancellationToken ct)
    {
        if (UserId.FromPhoneNumber(phone) is not { } user)
            return (null, ErrorCodes.InvalidField, "'phone' must be an E.164 phone number, like +15551230001");
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6");
        var expiresAt = clock.GetUtcNow().Add(options.Value.CodeLifetime);
        if (await AskAsync(new UserCommands.IssueVerification(user, Hash(user, code), expiresAt), ct) is not UserReplies.VerificationIssued)
            return (null, ErrorCodes.Unavailable, NoAnswer);
        await sender.SendAsync(user, code, ct);
        return (new RegistrationStarted(user.Value, expiresAt), null, null);
    }

    public async Task<(DeviceSession? Session, string? Code, string? Error)> VerifyAsync(string? phone, string? code, string? deviceName, CancellationToken ct)
    {
        if (UserId.FromPhoneNumber(phone) is not { } user)
            return (null, ErrorCodes.InvalidField, "'phone' must be an E.164 phone number, like +15551230001");
        if (string.IsNullOrWhiteSpace(code)) return (null, ErrorCodes.MissingField, "'code' is required");
        var name = NameOf(deviceName);

        var reply = await AskAsync(new UserCommands.VerifyAndLinkDevice(user, Hash(user, code.Trim()), name, clock.GetUtcNow()), ct);
        if (reply is UserReplies.UserRejected rejected) return (null, rejected.Code, rejected.Reason);
        // A new primary logs the account's other devices out: this edge forgets them before it answers (even with no
        // answer: the change may have been stored).
        keyedDevices?.Changed(user);
        if (reply is not UserReplies.DeviceLinked linked) return (null, ErrorCodes.Unavailable, NoAnswer);
        var (token, expiresAt) = tokens.Issue(user, linked.DeviceId, options.Value.TokenLifetime);
        return (new DeviceSession(user.Value, linked.DeviceId.Value, token, expiresAt, linked.NewAccount), null, null);
    }

    /// <summary>
    /// A new device asks to join the account of <paramref name="phone"/>. It shows <see cref="LinkRequest.ApprovalCode"/>
    /// (as a QR code) to an existing device, which approves it; it keeps <see cref="LinkRequest.DeviceSecret"/> to collect its session.
    /// </summary>
    public async Task<(LinkRequest? Link, string? Code, string? Error)> RequestLinkAsync(string? phone, string? deviceName, CancellationToken ct)
    {
        if (UserId.FromPhoneNumber(phone) is not { } user)
            return (null, ErrorCodes.InvalidField, "'phone' must be an E.164 phone number, like +15551230001");
        var linkId = $"{user.Value}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()}";
        var approvalCode = RandomNumberGenerator.GetInt32(0, 100_000_000).ToString("D8");
        var deviceSecret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = clock.GetUtcNow();
        var reply = await AskAsync(new UserCommands.RequestLink(user, linkId, NameOf(deviceName), LinkHash(linkId, approvalCode),
            LinkHash(linkId, deviceSecret), now, now.Add(options.Value.LinkLifetime)), ct);
        return reply switch
        {
            UserReplies.LinkStarted started => (new LinkRequest(started.LinkId, approvalCode, deviceSecret, started.ExpiresAt), null, null),
            UserReplies.UserRejected r => (null, r.Code, r.Reason),
            _ => (null, ErrorCodes.Unavailable, NoAnswer),
        };
    }

    /// <summary>The linked device's session, once an existing device approved the link (once only).</summary>
    public async Task<(DeviceSession? Session, string? Code, string? Error)> CompleteLinkAsync(string linkId, string? deviceSecret, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(deviceSecret)) return (null, ErrorCodes.MissingField, "'deviceSecret' is required");
        if (UserIdOfLink(linkId) is not { } user) return (null, ErrorCodes.InvalidLink, "no such link, or the wrong secret");
        var reply = await AskAsync(new UserCommands.CompleteLink(user, linkId, LinkHash(linkId, deviceSecret), clock.GetUtcNow()), ct);
        switch (reply)
        {
            case UserReplies.DeviceLinked linked:
                var (token, expiresAt) = tokens.Issue(user, linked.DeviceId, options.Value.TokenLifetime);
                var endorsement = linked.Endorsement is { } e ? new DeviceEndorsementView(e.AccountKey, e.Signature, e.LinkMac) : null;
                return (new DeviceSession(user.Value, linked.DeviceId.Value, token, expiresAt, NewAccount: false, endorsement), null, null);
            case UserReplies.UserRejected r:
                return (null, r.Code, r.Reason);
            default:
                return (null, ErrorCodes.Unavailable, NoAnswer);
        }
    }

    /// <summary>The hash an existing device's approval code is checked against.</summary>
    public static string LinkHash(string linkId, string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{linkId}:{secret}")));

    /// <summary>Link ids start with the account's user id, so the request reaches the right UserActor.</summary>
    public static UserId? UserIdOfLink(string linkId) =>
        linkId.IndexOf('.') is > 0 and var dot && UserId.FromPhoneNumber("+" + linkId[..dot]) is { } user ? user : null;

    private const string NoAnswer = "the cluster did not answer in time; retry";

    /// <summary>The account's reply, or null when the cluster did not answer within the ask timeout.</summary>
    private async Task<object?> AskAsync(UserCommands.IUserCommand command, CancellationToken ct)
    {
        var region = await users.GetAsync(ct);
        try { return await region.Ask<object>(command, AskTimeout, ct); }
        catch (AskTimeoutException) { return null; }
    }

    private static string NameOf(string? deviceName) =>
        string.IsNullOrWhiteSpace(deviceName) ? "device" : deviceName.Trim()[..Math.Min(deviceName.Trim().Length, 64)];

    // Salted with the user id so one table of hashes does not serve every account.
    private static string Hash(UserId user, string code) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{user.Value}:{code}")));
}
