using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Natter.Actors.Presence;
using Natter.Actors.Users;
using Natter.Messages;
using Natter.Messages.Users;
using Xunit;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserQueries;
using static Natter.Messages.Users.UserReplies;

namespace Natter.Actors.Tests;

/// <summary>Device-to-device messages of one account: held until acknowledged, pushed live, bounded, gone with a removed device.</summary>
public sealed class DeviceInboxSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000201");
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TestProbe _presence;
    private readonly IActorRef _user;
    private readonly DeviceId _phone;
    private readonly DeviceId _laptop;

    public DeviceInboxSpecs() : base(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "inbox-specs")
    {
        _presence = CreateTestProbe("presence");
        _user = Sys.ActorOf(UserActor.PropsFor(Alice.Value, _presence));
        _user.Tell(new IssueVerification(Alice, "HASH", T0.AddMinutes(10)));
        ExpectMsg<VerificationIssued>(Wait);
        _user.Tell(new VerifyAndLinkDevice(Alice, "HASH", "phone", T0));
        _phone = ExpectMsg<DeviceLinked>(Wait).DeviceId;
        _user.Tell(new RequestLink(Alice, "l1", "laptop", "A", "S", T0, T0.AddMinutes(5)));
        ExpectMsg<LinkStarted>(Wait);
        _user.Tell(new ApproveLink(Alice, _phone, "l1", "A", T0));
        _laptop = ExpectMsg<Account>(Wait).Devices[^1].Id;
    }

    [Fact]
    public void Messages_wait_for_their_device_until_acknowledged_and_are_pushed_to_it_live()
    {
        _user.Tell(new SendDeviceMessage(Alice, _phone, _laptop, [1, 2], T0));
        var first = ExpectMsg<DeviceMessageSent>(Wait).Id;
        _user.Tell(new SendDeviceMessage(Alice, _phone, _laptop, [3], T0));
        var second = ExpectMsg<DeviceMessageSent>(Wait).Id;
        var live = _presence.FishForMessage<PresenceCommands.DeliverDeviceNotice>(m => m.Notice is DeviceNotices.DeviceMessageArrived, Wait);
        Assert.Equal((DeviceId?)_laptop, live.Device);

        _user.Tell(new GetDeviceInbox(Alice, _laptop));
        Assert.Equal([first, second], ExpectMsg<DeviceInbox>(Wait).Messages.Select(m => m.Id));
        _user.Tell(new AckDeviceMessages(Alice, _laptop, first));
        Assert.Equal([second], ExpectMsg<DeviceInbox>(Wait).Messages.Select(m => m.Id));
        _user.Tell(new GetDeviceInbox(Alice, _phone));
        Assert.Empty(ExpectMsg<DeviceInbox>(Wait).Messages);
    }

    [Fact]
    public void Bad_device_messages_are_refused_and_a_removed_device_s_inbox_goes_with_it()
    {
        _user.Tell(new SendDeviceMessage(Alice, _phone, new DeviceId(9), [1], T0));
        Assert.Equal(UserRejections.UnknownDevice, ExpectMsg<UserRejected>(Wait).Code);
        _user.Tell(new SendDeviceMessage(Alice, _phone, _laptop, new byte[UserState.MaxDeviceMessageBytes + 1], T0));
        Assert.Equal(UserRejections.InvalidField, ExpectMsg<UserRejected>(Wait).Code);
        for (var i = 0; i < UserState.MaxInboxMessages; i++)
        {
            _user.Tell(new SendDeviceMessage(Alice, _phone, _laptop, [1], T0));
            ExpectMsg<DeviceMessageSent>(Wait);
        }
        _user.Tell(new SendDeviceMessage(Alice, _phone, _laptop, [1], T0));
        Assert.Equal(UserRejections.InboxFull, ExpectMsg<UserRejected>(Wait).Code);

        _user.Tell(new RemoveDevice(Alice, _phone, _laptop, T0));
        ExpectMsg<Account>(Wait);
        _user.Tell(new GetDeviceInbox(Alice, _laptop));
        Assert.Empty(ExpectMsg<DeviceInbox>(Wait).Messages);
    }
}
