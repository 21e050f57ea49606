using Akka.Actor;
using Natter.Actors.Presence;
using Natter.Messages;
using Natter.Messages.Protocol;
using Natter.Messages.Users;
using static Natter.Messages.Users.UserCommands;

namespace Natter.Actors.Services;

/// <summary>Request/response operations on a user: presence as others see it, settings, mutes, push registration.</summary>
/// <param name="keyedDevices">This process's cache of users' devices for sealed sends: told at once of the changes made here.</param>
public sealed class UserGateway(IActorRef users, IActorRef presence, TimeSpan timeout, KeyedDeviceCache? keyedDevices = null)
{
    public async Task<GatewayResult<PresenceCommands.PresenceView>> PresenceAsync(UserId viewer, UserId target) =>
        await AskAsync<PresenceCommands.PresenceView>(presence, new PresenceCommands.ViewPresence(target, viewer));

    public Task<GatewayResult<UserReplies.Profile>> ProfileAsync(UserId user) =>
        AskAsync<UserReplies.Profile>(users, new UserQueries.GetProfile(user));

    public Task<GatewayResult<UserReplies.Profile>> ChangeSettingsAsync(UserId user, UserSettings settings, DateTimeOffset now) =>
        AskAsync<UserReplies.Profile>(users, new ChangeSettings(user, settings, now));

    public Task<GatewayResult<UserReplies.Profile>> MuteAsync(UserId user, ChatId chatId, bool muted, DateTimeOffset? until) =>
        AskAsync<UserReplies.Profile>(users, new MuteChat(user, chatId, muted, until));

    public Task<GatewayResult<UserReplies.Profile>> RegisterPushAsync(UserId user, DeviceId device, string platform, string token,
        string? p256dh = null, string? auth = null) =>
        AskAsync<UserReplies.Profile>(users, new RegisterPush(user, device, platform, token, p256dh, auth));

    public Task<GatewayResult<UserReplies.Profile>> UnregisterPushAsync(UserId user, DeviceId device) =>
        AskAsync<UserReplies.Profile>(users, new UnregisterPush(user, device));

    public Task<GatewayResult<UserReplies.Account>> DevicesAsync(UserId user) =>
        AskAsync<UserReplies.Account>(users, new UserQueries.GetAccount(user));

    public Task<GatewayResult<UserReplies.Account>> RemoveDeviceAsync(UserId user, DeviceId by, DeviceId device, DateTimeOffset now) =>
        ChangingDevicesAsync<UserReplies.Account>(user, new RemoveDevice(user, by, device, now));

    public Task<GatewayResult<UserReplies.KeysStatus>> PublishKeysAsync(PublishKeys publish) =>
        ChangingDevicesAsync<UserReplies.KeysStatus>(publish.UserId, publish);

    public Task<GatewayResult<UserReplies.KeysStatus>> KeysStatusAsync(UserId user, DeviceId device) =>
        AskAsync<UserReplies.KeysStatus>(users, new UserQueries.GetKeysStatus(user, device));

    /// <summary>Bundles of one device of <paramref name="user"/>, or of all its keyed devices; each takes a one-time prekey.</summary>
    public Task<GatewayResult<UserReplies.Bundles>> ClaimBundlesAsync(UserId user, DeviceId? device, DateTimeOffset now) =>
        AskAsync<UserReplies.Bundles>(users, new ClaimBundles(user, device, now));

    public Task<GatewayResult<UserReplies.KeyedDevices>> KeyedDevicesAsync(UserId user) =>
        AskAsync<UserReplies.KeyedDevices>(users, new UserQueries.GetKeyedDevices(user));

    public Task<GatewayResult<UserReplies.PendingLinks>> PendingLinksAsync(UserId user, DateTimeOffset now) =>
        AskAsync<UserReplies.PendingLinks>(users, new UserQueries.GetPendingLinks(user, now));

    public Task<GatewayResult<UserReplies.Account>> ApproveLinkAsync(UserId user, DeviceId by, string linkId, string approvalHash, DateTimeOffset now,
        DeviceEndorsement? endorsement = null, SignedDeviceList? deviceList = null) =>
        ChangingDevicesAsync<UserReplies.Account>(user, new ApproveLink(user, by, linkId, approvalHash, now, endorsement, deviceList));

    public Task<GatewayResult<UserReplies.KeyedDevices>> PublishDeviceListAsync(UserId user, DeviceId by, SignedDeviceList list, DateTimeOffset now) =>
        ChangingDevicesAsync<UserReplies.KeyedDevices>(user, new PublishDeviceList(user, by, list, now));

    public Task<GatewayResult<UserReplies.DeviceMessageSent>> SendDeviceMessageAsync(UserId user, DeviceId from, DeviceId to, byte[] data, DateTimeOffset now) =>
        AskAsync<UserReplies.DeviceMessageSent>(users, new SendDeviceMessage(user, from, to, data, now));

    public Task<GatewayResult<UserReplies.DeviceInbox>> DeviceInboxAsync(UserId user, DeviceId device) =>
        AskAsync<UserReplies.DeviceInbox>(users, new UserQueries.GetDeviceInbox(user, device));

    public Task<GatewayResult<UserReplies.Backup>> BackupAsync(UserId user) =>
        AskAsync<UserReplies.Backup>(users, new UserQueries.GetBackup(user));

    public Task<GatewayResult<UserReplies.Backup>> RecordBackupAsync(UserId user, DeviceId device, string blobId, DateTimeOffset now) =>
        AskAsync<UserReplies.Backup>(users, new RecordBackup(user, device, blobId, now));

    public Task<GatewayResult<UserReplies.Backup>> DeleteBackupAsync(UserId user, DeviceId device, DateTimeOffset now) =>
        AskAsync<UserReplies.Backup>(users, new DeleteBackup(user, device, now));

    public Task<GatewayResult<UserReplies.DeviceInbox>> AckDeviceMessagesAsync(UserId user, DeviceId device, long upToId) =>
        AskAsync<UserReplies.DeviceInbox>(users, new AckDeviceMessages(user, device, upToId));

    /// <summary>
    /// Null when the device still belongs to the account (a removed device's token stops working at once); otherwise
    /// why not. A cluster that did not answer is <c>unavailable</c>, not a removed device: a client told
    /// <c>unauthorized</c> would throw its credentials away.
    /// </summary>
    public async Task<(string Code, string Message)?> DeviceRefusalAsync(UserId user, DeviceId device)
    {
        var account = await DevicesAsync(user);
        if (account.ErrorCode is ErrorCodes.Unavailable or ErrorCodes.Internal) return (account.ErrorCode, account.ErrorMessage!);
        return account.Ok && account.Value!.Devices.Any(d => d.Id == device)
            ? null
            : (ErrorCodes.Unauthorized, "this device was removed from the account");
    }

    /// <summary>
    /// A command that may change the devices the user hands out for sealed sends: this process's cache forgets the user
    /// before the caller is answered, so a send checked here after the answer sees the change. Other edges hear of it
    /// through the cluster's pub-sub (<see cref="KeyedDevicesChanged"/>), a moment later.
    /// </summary>
    private async Task<GatewayResult<T>> ChangingDevicesAsync<T>(UserId user, IUserCommand command) where T : class
    {
        var result = await AskAsync<T>(users, command);
        // Unless refused: a command with no answer in time may still have been stored.
        if (result.ErrorCode is null or ErrorCodes.Unavailable or ErrorCodes.Internal) keyedDevices?.Changed(user);
        return result;
    }

    private async Task<GatewayResult<T>> AskAsync<T>(IActorRef target, object request) where T : class
    {
        try
        {
            return await target.Ask<object>(request, timeout) switch
            {
                T reply => GatewayResult<T>.Success(reply),
                UserReplies.UserRejected r => GatewayResult<T>.Fail(r.Code, r.Reason),
                var other => GatewayResult<T>.Fail(ErrorCodes.Internal, $"unexpected reply {other.GetType().Name}"),
            };
        }
        catch (AskTimeoutException)
        {
            return GatewayResult<T>.Fail(ErrorCodes.Unavailable, "the cluster did not answer in time; retry");
        }
    }
}
