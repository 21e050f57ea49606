using Akka.Actor;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Natter.Messages.Users;
using static Natter.Messages.Chats.ChatQueries;

namespace Natter.Actors.Services;

/// <summary>
/// The devices an end-to-end encrypted send lacks an envelope for, those it names needlessly, and those whose envelope
/// was sealed for an identity key they no longer have.
/// </summary>
public sealed record StaleDevices(IReadOnlyList<DeviceRef> Missing, IReadOnlyList<DeviceRef> Extra, IReadOnlyList<DeviceRef> Changed);

public sealed partial class ChatGateway
{
    /// <summary>Envelopes a send may carry: every device of a 1,024-member group, five devices each.</summary>
    public const int MaxEnvelopes = 5_120;

    /// <summary>The reference client's envelopes are 89 bytes (194 while a session is set up).</summary>
    public const int MaxEnvelopeBytes = 256;

    /// <summary>
    /// Checks that a sealed send carries one envelope for every device that published keys, of every member
    /// (the sender's own other devices included, the sending device excluded), and none for anything else.
    /// An envelope that names the identity it was sealed for (<paramref name="sealedFor"/>, <see cref="IdentityTags"/>)
    /// must name the device's current one. Null when all holds, or when the sender is not a member (the chat refuses
    /// that send itself).
    /// </summary>
    public async Task<GatewayResult<StaleDevices?>> CheckEnvelopesAsync(ChatId chatId, UserId sender, DeviceId senderDevice,
        IReadOnlyList<DeviceEnvelope> envelopes, IReadOnlyDictionary<DeviceRef, string>? sealedFor = null)
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

        var sending = new DeviceRef(sender.Value, senderDevice.Value);
        try
        {
            var devices = await KeyedDevicesAsync(members, fresh: false);
            var stale = Compare(devices, given, sealedFor, sending);
            // The cache only confirms: where the send and a kept entry disagree, the users' entities decide.
            var cached = stale is null ? [] : Concerned(stale).Where(u => devices.TryGetValue(u, out var set) && set.FromCache).ToList();
            if (cached.Count > 0)
            {
                foreach (var (user, set) in await KeyedDevicesAsync(cached, fresh: true)) devices[user] = set;
                stale = Compare(devices, given, sealedFor, sending);
            }
            return GatewayResult<StaleDevices?>.Success(stale);
        }
        catch (AskTimeoutException)
        {
            return GatewayResult<StaleDevices?>.Fail(ErrorCodes.Unavailable, "the cluster did not answer in time; retry");
        }
    }

    /// <summary>Each user's keyed devices: from the cache where it has them (unless <paramref name="fresh"/>), else asked.</summary>
    private async Task<Dictionary<UserId, KeyedDeviceSet>> KeyedDevicesAsync(IReadOnlyList<UserId> members, bool fresh)
    {
        var found = new Dictionary<UserId, KeyedDeviceSet>();
        var toAsk = new List<UserId>();
        foreach (var member in members)
        {
            if (!fresh && keyedDevices?.Find(member) is { } hit) found[member] = hit;
            else toAsk.Add(member);
        }
        if (toAsk.Count == 0) return found;
        var askedAt = keyedDevices?.Now() ?? 0;
        var answers = await Task.WhenAll(toAsk.Select(u => users.Ask<UserReplies.KeyedDevices>(new UserQueries.GetKeyedDevices(u), timeout)));
        foreach (var answer in answers)
        {
            var set = KeyedDeviceSet.Of(answer);
            keyedDevices?.Keep(set, askedAt);
            found[answer.UserId] = set;
        }
        return found;
    }

    private static StaleDevices? Compare(Dictionary<UserId, KeyedDeviceSet> devices, List<DeviceRef> given,
        IReadOnlyDictionary<DeviceRef, string>? sealedFor, DeviceRef sending)
    {
        var identities = devices.Values.SelectMany(k => k.Devices.Select(d => (Device: new DeviceRef(k.UserId.Value, d.Device.Value), d.IdentityKey)))
            .Where(d => d.Device != sending)
            .ToDictionary(d => d.Device, d => d.IdentityKey);
        var missing = identities.Keys.Except(given).Order().ToList();
        var extra = given.Except(identities.Keys).Order().ToList();
        var changed = (sealedFor ?? new Dictionary<DeviceRef, string>())
            .Where(s => identities.TryGetValue(s.Key, out var key) && s.Value != IdentityTags.Of(key))
            .Select(s => s.Key).Order().ToList();
        return missing.Count == 0 && extra.Count == 0 && changed.Count == 0 ? null : new StaleDevices(missing, extra, changed);
    }

    /// <summary>The users whose devices a refusal names.</summary>
    private static IEnumerable<UserId> Concerned(StaleDevices stale) =>
        stale.Missing.Concat(stale.Extra).Concat(stale.Changed).Select(d => new UserId(d.UserId)).Distinct();

    /// <summary>The identity each envelope of a frame says it was sealed for, where it says so.</summary>
    public static IReadOnlyDictionary<DeviceRef, string> SealedFor(IEnumerable<EnvelopeFrame> envelopes) =>
        envelopes.Where(e => e.Identity is not null).DistinctBy(e => (e.UserId, e.DeviceId))
            .ToDictionary(e => new DeviceRef(e.UserId, e.DeviceId), e => e.Identity!);

    public static string Describe(StaleDevices stale) =>
        $"the device list is out of date: {stale.Missing.Count} device(s) missing, {stale.Extra.Count} not expected, "
        + $"{stale.Changed.Count} with new keys; fetch the keys and resend";
}
