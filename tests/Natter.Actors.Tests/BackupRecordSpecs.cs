using Akka.Actor;
using Akka.TestKit.Xunit2;
using Natter.Actors.Users;
using Natter.Messages;
using Natter.Messages.Users;
using Xunit;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserQueries;
using static Natter.Messages.Users.UserReplies;

namespace Natter.Actors.Tests;

/// <summary>An account's backup pointer: only its own upload, one at a time, durable across a restart of the entity.</summary>
public sealed class BackupRecordSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000301");
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly string First = new('a', 64);
    private static readonly string Second = new('b', 64);
    private IActorRef _user;
    private readonly DeviceId _phone;

    public BackupRecordSpecs() : base(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "backup-specs")
    {
        _user = StartUser();
        _user.Tell(new IssueVerification(Alice, "HASH", T0.AddMinutes(10)));
        ExpectMsg<VerificationIssued>(Wait);
        _user.Tell(new VerifyAndLinkDevice(Alice, "HASH", "phone", T0));
        _phone = ExpectMsg<DeviceLinked>(Wait).DeviceId;
        foreach (var blob in new[] { First, Second })
        {
            _user.Tell(new RecordUpload(Alice, new UploadedMedia(blob, 1000, "application/octet-stream"), long.MaxValue));
            ExpectMsg<Uploads>(Wait);
        }
    }

    private IActorRef StartUser() => Sys.ActorOf(UserActor.PropsFor(Alice.Value, CreateTestProbe()));

    private StoredBackup? Current()
    {
        _user.Tell(new GetBackup(Alice));
        return ExpectMsg<Backup>(Wait).Current;
    }

    [Fact]
    public void Only_an_upload_of_the_account_by_one_of_its_devices_becomes_its_backup()
    {
        Assert.Null(Current());
        _user.Tell(new RecordBackup(Alice, _phone, new string('c', 64), T0));
        Assert.Equal(UserRejections.MediaNotFound, ExpectMsg<UserRejected>(Wait).Code);
        _user.Tell(new RecordBackup(Alice, new DeviceId(9), First, T0));
        Assert.Equal(UserRejections.UnknownDevice, ExpectMsg<UserRejected>(Wait).Code);
        Assert.Null(Current());

        _user.Tell(new RecordBackup(Alice, _phone, First, T0));
        Assert.Equal(new StoredBackup(First, 1000, _phone, T0), ExpectMsg<Backup>(Wait).Current);
    }

    [Fact]
    public void The_current_backup_s_upload_is_not_forgotten_so_a_collection_racing_the_backup_keeps_its_file()
    {
        _user.Tell(new RecordBackup(Alice, _phone, First, T0));
        ExpectMsg<Backup>(Wait);
        _user.Tell(new ForgetUpload(Alice, First));
        Assert.Equal(UserRejections.BackupInUse, ExpectMsg<UserRejected>(Wait).Code);
        _user.Tell(new ForgetUpload(Alice, Second));
        Assert.Equal([First], ExpectMsg<Uploads>(Wait).Media.Select(m => m.BlobId));
        // Once forgotten, an upload can no longer become the backup.
        _user.Tell(new RecordBackup(Alice, _phone, Second, T0));
        Assert.Equal(UserRejections.MediaNotFound, ExpectMsg<UserRejected>(Wait).Code);
    }

    [Fact]
    public void A_newer_backup_replaces_the_older_a_deleted_one_is_gone_and_both_survive_a_restart()
    {
        _user.Tell(new RecordBackup(Alice, _phone, First, T0));
        ExpectMsg<Backup>(Wait);
        _user.Tell(new RecordBackup(Alice, _phone, Second, T0.AddDays(1)));
        Assert.Equal(Second, ExpectMsg<Backup>(Wait).Current!.BlobId);

        Watch(_user);
        _user.Tell(PoisonPill.Instance);
        ExpectTerminated(_user, Wait);
        _user = StartUser();
        Assert.Equal(new StoredBackup(Second, 1000, _phone, T0.AddDays(1)), Current());

        _user.Tell(new DeleteBackup(Alice, _phone, T0.AddDays(2)));
        Assert.Null(ExpectMsg<Backup>(Wait).Current);
        _user.Tell(new DeleteBackup(Alice, _phone, T0.AddDays(2)));
        Assert.Null(ExpectMsg<Backup>(Wait).Current);
        Watch(_user);
        _user.Tell(PoisonPill.Instance);
        ExpectTerminated(_user, Wait);
        _user = StartUser();
        Assert.Null(Current());
    }
}
