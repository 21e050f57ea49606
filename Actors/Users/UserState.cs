using Natter.Messages;
using Natter.Messages.Users;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserEvents;

namespace Natter.Actors.Users;

/// <summary>
/// An account: its devices, its chat list, a pending verification code (only its hash), its settings,
/// muted chats, push registrations, last seen, uploads, keys, links, device inbox, backup and signed device list. Pure: decisions read the clock from the command,
/// never from the machine. Fields after <see cref="FailedAttempts"/> came later; older snapshots lack them.
/// </summary>
public sealed partial record UserState(
    UserId Id,
    bool Exists,
    IReadOnlyList<DeviceInfo> Devices,
    int LastDeviceId,
    IReadOnlyList<ChatId> Chats,
    string? PendingCodeHash,
    DateTimeOffset? PendingCodeExpiresAt,
    int FailedAttempts,
    UserSettings? Settings = null,
    IReadOnlyList<MutedChat>? Muted = null,
    IReadOnlyList<PushRegistration>? Push = null,
    DateTimeOffset? LastSeen = null,
    IReadOnlyList<UploadedMedia>? Uploads = null,
    IReadOnlyList<DeviceKeyState>? Keys = null,
    IReadOnlyList<PendingLink>? Links = null,
    IReadOnlyList<DeviceMessage>? Inbox = null,
    long LastDeviceMessageId = 0,
    StoredBackup? Backup = null,
    SignedDeviceList? DeviceList = null) : INatterMessage
{
    public long UploadedBytes => Uploads?.Sum(u => u.Size) ?? 0;

    public UserReplies.Uploads ToUploads() => new(Id, Uploads ?? [], UploadedBytes);

    public static readonly IReadOnlyList<string> PushPlatforms = ["fcm", "apns", "webpush", "email"];
    public const int MaxPushTokenLength = 4096;

    public UserSettings EffectiveSettings => Settings ?? new UserSettings();

    /// <summary>Users this one shares a direct chat with.</summary>
    public IReadOnlyList<UserId> Contacts() => Chats
        .Select(c => c.DirectMembers())
        .Where(pair => pair is not null)
        .Select(pair => pair!.Value.Item1 == Id ? pair.Value.Item2 : pair.Value.Item1)
        .ToList();

    public UserReplies.Profile ToProfile() =>
        new(Id, Exists, EffectiveSettings, Muted ?? [], Push ?? [], LastSeen, Contacts());

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
        _ when !Exists => ([], (UserRejections.UnknownUser, "no such account")),
        ChangeSettings c when !UserSettings.Themes.Contains(c.Settings.Theme) =>
            ([], (UserRejections.InvalidField, $"'theme' must be one of {string.Join(", ", UserSettings.Themes)}")),
        ChangeSettings c when !Enum.IsDefined(c.Settings.LastSeen) => ([], (UserRejections.InvalidField, "unknown 'lastSeen' visibility")),
        ChangeSettings c => ([new SettingsChanged(Id, c.Settings, c.At)], null),
        MuteChat m when !Chats.Contains(m.ChatId) => ([], (UserRejections.ChatNotFound, $"'{m.ChatId}' is not one of your chats")),
        MuteChat m => ([new ChatMuteChanged(Id, m.ChatId, m.Muted, m.Muted ? m.Until : null)], null),
        RegisterPush r when Devices.All(d => d.Id != r.Device) => ([], (UserRejections.UnknownDevice, $"no device {r.Device}")),
        RegisterPush r when !PushPlatforms.Contains(r.Platform) =>
            ([], (UserRejections.InvalidField, $"'platform' must be one of {string.Join(", ", PushPlatforms)}")),
        RegisterPush r when string.IsNullOrWhiteSpace(r.Token) || r.Token.Length > MaxPushTokenLength =>
            ([], (UserRejections.InvalidField, $"'token' must be 1 to {MaxPushTokenLength} characters")),
        RegisterPush r when (r.P256dh is null) != (r.Auth is null) => ([], (UserRejections.InvalidField, "'p256dh' and 'auth' come together")),
        RegisterPush r when r.P256dh is not null && r.Platform == "email" => ([], (UserRejections.InvalidField, "'p256dh' and 'auth' are not for email")),
        // The same registration again (an app or page renews it at every start): nothing to write.
        RegisterPush r when Push?.Contains(new PushRegistration(r.Device, r.Platform, r.Token, r.P256dh, r.Auth)) == true => ([], null),
        RegisterPush r => ([new PushRegistered(Id, new PushRegistration(r.Device, r.Platform, r.Token, r.P256dh, r.Auth))], null),
        UnregisterPush u when Push?.Any(p => p.Device == u.Device && (u.Token is null || p.Token == u.Token)) != true => ([], null),
        UnregisterPush u => ([new PushUnregistered(Id, u.Device, Gone: u.Token is not null)], null),
        RecordUpload r when Uploads?.Any(u => u.BlobId == r.Media.BlobId) == true => ([], null),
        RecordUpload r when UploadedBytes + r.Media.Size > r.QuotaBytes =>
            ([], (UserRejections.QuotaExceeded, $"storing this would pass your media quota of {r.QuotaBytes} bytes")),
        RecordUpload r => ([new MediaUploaded(Id, r.Media)], null),
        ForgetUpload f when Uploads?.Any(u => u.BlobId == f.BlobId) != true => ([], null),
        ForgetUpload f when Backup?.BlobId == f.BlobId => ([], (UserRejections.BackupInUse, "this upload is the account's current backup")),
        ForgetUpload f => ([new MediaForgotten(Id, f.BlobId)], null),
        RecordBackup b => DecideBackup(b),
        DeleteBackup d when Devices.All(x => x.Id != d.Device) => ([], (UserRejections.UnknownDevice, $"no device {d.Device}")),
        DeleteBackup when Backup is null => ([], null),
        DeleteBackup d => ([new BackupDeleted(Id, d.Device, d.At)], null),
        RemoveDevice r when Devices.All(d => d.Id != r.Device) => ([], (UserRejections.UnknownDevice, $"no device {r.Device}")),
        RemoveDevice r when r.Device == Devices[0].Id => ([], (UserRejections.InvalidField, "the primary device cannot be removed")),
        RemoveDevice r when r.By != r.Device && r.By != Devices[0].Id =>
            ([], (UserRejections.NotPrimary, "only the primary device removes other devices; a linked device may remove itself")),
        RemoveDevice r => ([new DeviceRemoved(Id, r.Device, r.By, r.At)], null),
        RecordLastSeen l when LastSeen >= l.At => ([], null),
        RecordLastSeen l => ([new LastSeenRecorded(Id, l.At)], null),
        PublishKeys p => DecidePublish(p),
        ClaimBundles c => DecideClaim(c),
        RequestLink r => DecideRequestLink(r),
        ApproveLink a => DecideApproveLink(a),
        PublishDeviceList p => DecidePublishDeviceList(p),
        CompleteLink c => DecideCompleteLink(c),
        SendDeviceMessage m => DecideDeviceMessage(m),
        AckDeviceMessages a when Devices.All(d => d.Id != a.Device) => ([], (UserRejections.UnknownDevice, $"no device {a.Device}")),
        AckDeviceMessages a when InboxOf(a.Device).All(m => m.Id > a.UpToId) => ([], null),
        AckDeviceMessages a => ([new DeviceMessagesAcked(Id, a.Device, a.UpToId)], null),
        _ => ([], ("unknown_command", command.GetType().Name)),
    };

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecideVerify(VerifyAndLinkDevice v)
    {
        if (PendingCodeHash is null) return ([], (UserRejections.NoPendingCode, "request a verification code first"));
        if (FailedAttempts >= MaxAttempts) return ([], (UserRejections.TooManyAttempts, "too many wrong codes; request a new one"));
        if (v.At > PendingCodeExpiresAt) return ([], (UserRejections.CodeExpired, "the verification code expired; request a new one"));
        if (!CryptographicEquals(PendingCodeHash, v.CodeHash))
            return ([new VerificationAttemptFailed(Id, v.At)], (UserRejections.WrongCode, "wrong verification code"));

        var device = new DeviceRegistered(Id, new DeviceId(LastDeviceId + 1), v.DeviceName, v.At);
        if (!Exists) return ([new AccountCreated(Id, v.At), device], null);
        // The phone number verified again: this device becomes the primary and every earlier device is
        // logged out (WhatsApp's model). Adding a device to an account goes through linking instead.
        return ([device, .. Devices.Select(d => new DeviceRemoved(Id, d.Id, device.DeviceId, v.At))], null);
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
        SettingsChanged c => this with { Settings = c.Settings },
        ChatMuteChanged m => this with
        {
            Muted = [.. (Muted ?? []).Where(x => x.ChatId != m.ChatId), .. m.Muted ? [new MutedChat(m.ChatId, m.Until)] : Array.Empty<MutedChat>()],
        },
        PushRegistered p => this with { Push = [.. (Push ?? []).Where(x => x.Device != p.Registration.Device), p.Registration] },
        PushUnregistered u => this with { Push = (Push ?? []).Where(x => x.Device != u.Device).ToList() },
        LastSeenRecorded l => this with { LastSeen = l.At },
        MediaUploaded m => this with { Uploads = [.. Uploads ?? [], m.Media] },
        DeviceRemoved r => this with
        {
            Devices = Devices.Where(d => d.Id != r.DeviceId).ToList(),
            Push = (Push ?? []).Where(p => p.Device != r.DeviceId).ToList(),
            Keys = (Keys ?? []).Where(k => k.Device != r.DeviceId).ToList(),
            Inbox = (Inbox ?? []).Where(m => m.To != r.DeviceId).ToList(),
        },
        DeviceMessageQueued q => this with { Inbox = [.. Inbox ?? [], q.Message], LastDeviceMessageId = q.Message.Id },
        DeviceMessagesAcked a => this with { Inbox = (Inbox ?? []).Where(m => m.To != a.Device || m.Id > a.UpToId).ToList() },
        DeviceKeysPublished p => ApplyKeys(p),
        PreKeysClaimed c => ApplyClaims(c),
        LinkRequested l => this with { Links = [.. WithRoomForOneMore(LiveLinks(l.Link.RequestedAt)), l.Link] },
        LinkApproved a => ApplyLinkApproved(a),
        LinkCompleted c => this with { Links = (Links ?? []).Where(l => l.LinkId != c.LinkId).ToList() },
        DeviceListPublished p => this with { DeviceList = p.List },
        MediaForgotten f => this with { Uploads = (Uploads ?? []).Where(u => u.BlobId != f.BlobId).ToList() },
        BackupStored b => this with { Backup = b.Backup },
        BackupDeleted => this with { Backup = null },
        _ => this,
    };

    private static bool CryptographicEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(a), System.Text.Encoding.ASCII.GetBytes(b));
}
