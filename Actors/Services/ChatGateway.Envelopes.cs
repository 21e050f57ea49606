using Akka.Actor;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Natter.Messages.Users;
using static Natter.Messages.Chats.ChatQueries;

namespace Natter.Actors.Services;

/// <summary>The devices an end-to-end encrypted send lacks an envelope for, and those it names needlessly.</summary>
public sealed record StaleDevices(IReadOnlyList<DeviceRef> Missing, IReadOnlyList<DeviceRef> Extra);

public sealed partial class ChatGateway
{
    /// <summary>Envelopes a send may carry: every device of a 1,024-member group, five devices each.</summary>
    public const int MaxEnvelopes = 5_120;

    /// <summary>The reference client's envelopes are 89 bytes (194 while a session is set up).</summary>
    public const int MaxEnvelopeBytes = 256;

    /// <summary>
    /// Checks that a sealed send carries one envelope for every device that published keys, of every member
    /// (the sender's own other devices included, the sending device excluded), and none for anything else.
    /// Null when it does, or when the sender is not a member (the chat refuses that send itself).
    /// </summary>
    public async Task<GatewayResult<StaleDevices?>> CheckEnvelopesAsync(ChatId chatId, UserId sender, DeviceId senderDevice,
        IReadOnlyList<DeviceEnvelope> envelopes)
    {
        if (envelopes.Count > MaxEnvelopes || envelopes.Any(e => e.Data.Length is 0 or > MaxEnvelopeBytes))
            return GatewayResult<StaleDevices?>.Fail(ErrorCodes.InvalidField, $"at most {MaxEnvelopes} envelopes of 1 to {MaxEnvelopeBytes} bytes");
        var given = envelopes.Select(e => new DeviceRef(e.User.Value, e.Device.Value)).ToList();
        if (given.Distinct().Count() != given.Count)
            return GatewayResult<StaleDevices?>.Fail(ErrorCodes.InvalidField, "one envelope per device");

        IReadOnlyList<UserId> members;
        if (chatId.DirectMembers() is var (a, b)) members = [a, b];
        else
        {
            var current = await AskChatAsync<MembersAt>(new GetMembersAt(chatId, long.MaxValue), "the chat did not answer in time; retry");
            if (!current.Ok) return GatewayResult<StaleDevices?>.Fail(current.ErrorCode!, current.ErrorMessage!);
            members = current.Value!.Members;
        }
        if (!members.Contains(sender)) return GatewayResult<StaleDevices?>.Success(null);

        UserReplies.KeyedDevices[] keyed;
        try
        {
            keyed = await Task.WhenAll(members.Select(u => users.Ask<UserReplies.KeyedDevices>(new UserQueries.GetKeyedDevices(u), timeout)));
        }
        catch (AskTimeoutException)
        {
            return GatewayResult<StaleDevices?>.Fail(ErrorCodes.Unavailable, "the cluster did not answer in time; retry");
        }
        var sending = new DeviceRef(sender.Value, senderDevice.Value);
        var expected = keyed.SelectMany(k => k.Devices.Select(d => new DeviceRef(k.UserId.Value, d.Device.Value))).Where(d => d != sending).ToHashSet();
        var missing = expected.Except(given).Order().ToList();
        var extra = given.Except(expected).Order().ToList();
        return GatewayResult<StaleDevices?>.Success(missing.Count == 0 && extra.Count == 0 ? null : new StaleDevices(missing, extra));
    }

    public static string Describe(StaleDevices stale) =>
        $"the device list is out of date: {stale.Missing.Count} device(s) missing, {stale.Extra.Count} not expected; fetch the keys and resend";
}
