using Natter.Messages;
using Natter.Messages.Users;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserEvents;

namespace Natter.Actors.Users;

/// <summary>The account's backup: one of its own uploads, named as the current one.</summary>
public sealed partial record UserState
{
    public UserReplies.Backup ToBackup() => new(Id, Backup);

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecideBackup(RecordBackup b)
    {
        if (Devices.All(d => d.Id != b.Device)) return ([], (UserRejections.UnknownDevice, $"no device {b.Device}"));
        if (Backup?.BlobId == b.BlobId) return ([], null);
        // Only the account's own upload: naming someone else's blob must not make it downloadable or keep it alive.
        if (Uploads?.FirstOrDefault(u => u.BlobId == b.BlobId) is not { } upload)
            return ([], (UserRejections.MediaNotFound, "'mediaId' names none of your uploads; upload the backup first (POST /api/media)"));
        return ([new BackupStored(Id, new StoredBackup(upload.BlobId, upload.Size, b.Device, b.At))], null);
    }
}
