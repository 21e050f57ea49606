namespace Natter.Messages.Users;

/// <summary>A device of an account; a linked one may carry the primary's <see cref="DeviceEndorsement"/> of its identity key.</summary>
public sealed record DeviceInfo(DeviceId Id, string Name, DateTimeOffset LinkedAt, DeviceEndorsement? Endorsement = null);

public static class UserRejections
{
    public const string NoPendingCode = "no_pending_code";
    public const string CodeExpired = "code_expired";
    public const string WrongCode = "wrong_code";
    public const string TooManyAttempts = "too_many_attempts";
    public const string UnknownUser = "unknown_user";
    public const string TooManyDevices = "too_many_devices";
    public const string UnknownDevice = "unknown_device";
    public const string ChatNotFound = "chat_not_found";
    public const string InvalidField = "invalid_field";
    public const string MissingField = "missing_field";
    public const string QuotaExceeded = "quota_exceeded";
    public const string NotPrimary = "not_primary";
    public const string KeysNotPublished = "keys_not_published";
    public const string InvalidKey = "invalid_key";
    public const string InvalidLink = "invalid_link";
    public const string DeviceNotEndorsed = "device_not_endorsed";
    public const string StaleDeviceList = "stale_device_list";
    public const string LinkPending = "link_pending";
    public const string InboxFull = "inbox_full";
    public const string MediaNotFound = "media_not_found";
    public const string BackupInUse = "backup_in_use";
}
