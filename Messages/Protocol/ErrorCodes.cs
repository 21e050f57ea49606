namespace Natter.Messages.Protocol;

/// <summary>Stable error codes of protocol v1, shared by WebSocket error frames and REST error bodies.</summary>
public static class ErrorCodes
{
    public const string MalformedJson = "malformed_json";
    public const string UnknownType = "unknown_type";
    public const string MissingField = "missing_field";
    public const string InvalidField = "invalid_field";
    public const string BodyTooLarge = "body_too_large";
    public const string NotMember = "not_member";
    public const string ChatNotFound = "chat_not_found";
    public const string UnknownUser = "unknown_user";
    public const string NotAGroup = "not_a_group";
    public const string NotAdmin = "not_admin";
    public const string GroupFull = "group_full";
    public const string InvalidInvite = "invalid_invite";
    public const string InvalidMembers = "invalid_members";
    public const string InvalidCursor = "invalid_cursor";
    public const string RateLimited = "rate_limited";
    public const string UnknownDevice = "unknown_device";
    public const string MediaTooLarge = "media_too_large";
    public const string QuotaExceeded = "quota_exceeded";
    public const string HashMismatch = "hash_mismatch";
    public const string MediaNotFound = "media_not_found";
    public const string NoBackup = "no_backup";
    public const string OffsetMismatch = "offset_mismatch";
    public const string LiveLocationEnded = "live_location_ended";
    public const string NotPrimary = "not_primary";
    public const string KeysNotPublished = "keys_not_published";
    public const string InvalidKey = "invalid_key";
    public const string InvalidLink = "invalid_link";
    public const string DeviceNotEndorsed = "device_not_endorsed";
    public const string LinkPending = "link_pending";
    public const string TooManyDevices = "too_many_devices";
    public const string StaleDevices = "stale_devices";
    public const string StaleDeviceList = "stale_device_list";
    public const string InboxFull = "inbox_full";
    public const string SealedSendRequired = "sealed_send_required";
    public const string Unauthorized = "unauthorized";
    public const string Unavailable = "unavailable";
    public const string NotConfigured = "not_configured";
    public const string Internal = "internal";
}

/// <summary>WebSocket close codes Natter uses besides the standard ones (1009 = frame too big).</summary>
public static class CloseCodes
{
    /// <summary>The outbound queue overflowed; reconnect and sync from your cursors.</summary>
    public const int SlowConsumer = 4008;

    /// <summary>The access token expired while connected; get a new one and reconnect.</summary>
    public const int TokenExpired = 4001;

    /// <summary>No frame (a ping or anything else) arrived within the idle timeout: the device counts as offline.</summary>
    public const int HeartbeatMissed = 4002;

    /// <summary>Another connection of the same device took over.</summary>
    public const int SessionReplaced = 4009;

    /// <summary>The device was removed from the account; its token no longer works.</summary>
    public const int DeviceRemoved = 4010;
}
