using Natter.Actors.Chats;
using Natter.Actors.Presence;
using Natter.Messages.Chats;
using Natter.Messages.Users;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatEvents;
using static Natter.Messages.Chats.ChatNotices;
using static Natter.Messages.Chats.ChatQueries;
using static Natter.Messages.Chats.ChatReplies;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserEvents;
using static Natter.Messages.Users.UserQueries;
using static Natter.Messages.Users.UserReplies;

namespace Natter.Actors.Serialization;

/// <summary>
/// The stable name of every stored or remoted type. A manifest is never reused for another shape;
/// renaming a CLR type changes nothing here. Events carry ".v1" so a later shape can live beside it.
/// </summary>
public static class Manifests
{
    private static readonly (string Manifest, Type Type)[] All =
    [
        // Chat events (journal)
        ("ce.created.v1", typeof(ChatCreated)),
        ("ce.appended.v1", typeof(MessageAppended)),
        ("ce.cursor.v1", typeof(CursorAdvanced)),
        ("ce.cursors.v1", typeof(CursorsAdvanced)),
        ("ce.group.v1", typeof(GroupChanged)),
        ("ce.invite.v1", typeof(InviteCodeSet)),
        ("cs.snapshot.v1", typeof(ChatSnapshot)),
        // Chat commands, queries, replies, notices (remote)
        ("cc.create", typeof(CreateChat)),
        ("cc.send", typeof(SendMessage)),
        ("cc.cursor", typeof(AdvanceCursor)),
        ("cc.group", typeof(ChangeGroup)),
        ("cc.typing", typeof(SignalTyping)),
        ("cc.tell-members", typeof(TellMembers)),
        ("cc.location", typeof(UpdateLocation)),
        ("cc.location-stop", typeof(StopLocation)),
        ("cq.receipts", typeof(GetMessageReceipts)),
        ("cq.members-at", typeof(GetMembersAt)),
        ("cr.members-at", typeof(MembersAt)),
        ("nr.request", typeof(Natter.Messages.Notifications.NotificationRequest)),
        ("ne.offset.v1", typeof(Natter.Actors.Notifications.NotificationProjection.OffsetStored)),
        ("cw.watch", typeof(ChatWatch.WatchChat)),
        ("cw.unwatch", typeof(ChatWatch.UnwatchChat)),
        ("cw.watched", typeof(ChatWatch.ChatWatched)),
        ("cw.head", typeof(ChatWatch.ChatHead)),
        ("cq.after", typeof(GetMessagesAfter)),
        ("cq.before", typeof(GetMessagesBefore)),
        ("cq.summary", typeof(GetChatSummary)),
        ("cr.ready", typeof(ChatReady)),
        ("cr.accepted", typeof(MessageAccepted)),
        ("cr.cursor", typeof(CursorAccepted)),
        ("cr.rejected", typeof(ChatRejected)),
        ("cr.page", typeof(MessagePage)),
        ("cr.summary", typeof(ChatSummary)),
        ("cr.group", typeof(GroupUpdated)),
        ("cr.receipts", typeof(MessageReceipts)),
        ("cn.message", typeof(NewMessage)),
        ("cn.receipt", typeof(ReceiptUpdated)),
        ("cn.group-receipts", typeof(GroupReceiptsUpdated)),
        ("cn.typing", typeof(Typing)),
        ("cn.location", typeof(LocationUpdated)),
        ("cn.location-stopped", typeof(LocationStopped)),
        // User events (journal) and snapshot
        ("ue.code.v1", typeof(VerificationCodeIssued)),
        ("ue.attempt.v1", typeof(VerificationAttemptFailed)),
        ("ue.created.v1", typeof(AccountCreated)),
        ("ue.device.v1", typeof(DeviceRegistered)),
        ("ue.chat.v1", typeof(ChatJoined)),
        ("ue.settings.v1", typeof(SettingsChanged)),
        ("ue.mute.v1", typeof(ChatMuteChanged)),
        ("ue.push.v1", typeof(PushRegistered)),
        ("ue.push-removed.v1", typeof(PushUnregistered)),
        ("ue.last-seen.v1", typeof(LastSeenRecorded)),
        ("ue.media.v1", typeof(MediaUploaded)),
        ("ue.media-forgotten.v1", typeof(MediaForgotten)),
        ("ue.device-removed.v1", typeof(DeviceRemoved)),
        ("ue.keys.v1", typeof(DeviceKeysPublished)),
        ("ue.prekeys-claimed.v1", typeof(PreKeysClaimed)),
        ("ue.link-requested.v1", typeof(LinkRequested)),
        ("ue.link-approved.v1", typeof(LinkApproved)),
        ("ue.link-completed.v1", typeof(LinkCompleted)),
        ("ue.device-list.v1", typeof(DeviceListPublished)),
        ("ue.device-message.v1", typeof(DeviceMessageQueued)),
        ("ue.device-acked.v1", typeof(DeviceMessagesAcked)),
        ("ue.backup.v1", typeof(BackupStored)),
        ("ue.backup-deleted.v1", typeof(BackupDeleted)),
        ("us.snapshot.v1", typeof(Users.UserState)),
        // User commands, queries, replies (remote)
        ("uc.code", typeof(IssueVerification)),
        ("uc.verify", typeof(VerifyAndLinkDevice)),
        ("uc.list-chat", typeof(ListChat)),
        ("uc.settings", typeof(ChangeSettings)),
        ("uc.mute", typeof(MuteChat)),
        ("uc.push", typeof(RegisterPush)),
        ("uc.unregister-push", typeof(UnregisterPush)),
        ("uc.last-seen", typeof(RecordLastSeen)),
        ("uq.profile", typeof(GetProfile)),
        ("uc.upload", typeof(RecordUpload)),
        ("uc.forget-upload", typeof(ForgetUpload)),
        ("uc.remove-device", typeof(RemoveDevice)),
        ("pc.device-revoked", typeof(PresenceCommands.DeviceRevoked)),
        ("uq.uploads", typeof(GetUploads)),
        ("ur.uploads", typeof(Uploads)),
        ("uc.backup", typeof(RecordBackup)),
        ("uc.delete-backup", typeof(DeleteBackup)),
        ("uq.backup", typeof(GetBackup)),
        ("ur.backup", typeof(Backup)),
        ("ur.profile", typeof(Profile)),
        ("uq.account", typeof(GetAccount)),
        ("uq.chats", typeof(GetChatList)),
        ("ur.code", typeof(VerificationIssued)),
        ("ur.linked", typeof(DeviceLinked)),
        ("ur.rejected", typeof(UserRejected)),
        ("ur.listed", typeof(ChatListed)),
        ("ur.account", typeof(Account)),
        ("ur.chats", typeof(ChatList)),
        ("uc.publish-keys", typeof(PublishKeys)),
        ("uc.claim-bundles", typeof(ClaimBundles)),
        ("uc.request-link", typeof(RequestLink)),
        ("uc.approve-link", typeof(ApproveLink)),
        ("uc.complete-link", typeof(CompleteLink)),
        ("uc.publish-device-list", typeof(PublishDeviceList)),
        ("uq.keys-status", typeof(GetKeysStatus)),
        ("uq.keyed-devices", typeof(GetKeyedDevices)),
        ("un.keyed-devices-changed", typeof(KeyedDevicesChanged)),
        ("uq.pending-links", typeof(GetPendingLinks)),
        ("ur.keys-status", typeof(KeysStatus)),
        ("ur.bundles", typeof(Bundles)),
        ("ur.keyed-devices", typeof(KeyedDevices)),
        ("ur.link-started", typeof(LinkStarted)),
        ("ur.pending-links", typeof(PendingLinks)),
        ("dn.prekeys-low", typeof(DeviceNotices.PreKeysLow)),
        ("dn.identity-changed", typeof(DeviceNotices.IdentityChanged)),
        ("dn.devices-changed", typeof(DeviceNotices.DevicesChanged)),
        ("dn.link-requested", typeof(DeviceNotices.LinkRequested)),
        ("dn.device-message", typeof(DeviceNotices.DeviceMessageArrived)),
        ("uc.device-message", typeof(SendDeviceMessage)),
        ("uc.ack-device-messages", typeof(AckDeviceMessages)),
        ("uq.device-inbox", typeof(GetDeviceInbox)),
        ("ur.device-message", typeof(DeviceMessageSent)),
        ("ur.device-inbox", typeof(DeviceInbox)),
        // Presence (remote)
        ("pc.online", typeof(PresenceCommands.DeviceOnline)),
        ("pc.offline", typeof(PresenceCommands.DeviceOffline)),
        ("pc.deliver", typeof(PresenceCommands.DeliverNotice)),
        ("pc.watch-routes", typeof(PresenceCommands.WatchRoutes)),
        ("pr.routes", typeof(PresenceCommands.DeviceRoutes)),
        ("pq.get", typeof(PresenceCommands.GetPresence)),
        ("pr.status", typeof(PresenceCommands.PresenceStatus)),
        ("pr.replaced", typeof(PresenceCommands.SessionReplaced)),
        // v2: an incarnation instead of the entity's reference (session 9); a process of the earlier shape refuses it
        // rather than misread it.
        ("pr.registered-v2", typeof(PresenceCommands.PresenceRegistered)),
        ("pr.stopped", typeof(PresenceCommands.PresenceStopped)),
        ("pq.view", typeof(PresenceCommands.ViewPresence)),
        ("pr.view", typeof(PresenceCommands.PresenceView)),
        ("pc.deliver-presence", typeof(PresenceCommands.DeliverPresence)),
        ("pc.deliver-device-notice", typeof(PresenceCommands.DeliverDeviceNotice)),
        ("pn.changed", typeof(PresenceCommands.PresenceChanged)),
    ];

    public static readonly IReadOnlyDictionary<Type, string> ByType = All.ToDictionary(e => e.Type, e => e.Manifest);
    public static readonly IReadOnlyDictionary<string, Type> ByName = All.ToDictionary(e => e.Manifest, e => e.Type);
    public static IEnumerable<Type> Types => All.Select(e => e.Type);
}
