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

/// <summary>A device's push registration: replaced by the next, removed by the device or when its provider calls that token gone.</summary>
public sealed class PushRegistrationSpecs : TestKit
{
    private static readonly UserId Bob = new("15550000401");
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private IActorRef _user;
    private readonly DeviceId _phone;

    public PushRegistrationSpecs() : base(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "push-registration-specs")
    {
        _user = StartUser();
        _user.Tell(new IssueVerification(Bob, "HASH", T0.AddMinutes(10)));
        ExpectMsg<VerificationIssued>(Wait);
        _user.Tell(new VerifyAndLinkDevice(Bob, "HASH", "phone", T0));
        _phone = ExpectMsg<DeviceLinked>(Wait).DeviceId;
    }

    private IActorRef StartUser() => Sys.ActorOf(UserActor.PropsFor(Bob.Value, CreateTestProbe()));

    private IReadOnlyList<PushRegistration> After(object command)
    {
        _user.Tell(command);
        return ExpectMsg<Profile>(Wait).Push;
    }

    private IReadOnlyList<PushRegistration> AfterRestart()
    {
        Watch(_user);
        _user.Tell(PoisonPill.Instance);
        ExpectTerminated(_user, Wait);
        _user = StartUser();
        return After(new GetProfile(Bob));
    }

    [Fact]
    public void A_gone_report_for_a_token_the_device_has_since_replaced_leaves_the_new_one()
    {
        After(new RegisterPush(Bob, _phone, "fcm", "old-token"));
        Assert.Equal("new-token", Assert.Single(After(new RegisterPush(Bob, _phone, "fcm", "new-token"))).Token);

        // The provider's answer to a push sent with the old token arrives after the device registered anew.
        Assert.Equal("new-token", Assert.Single(After(new UnregisterPush(Bob, _phone, "old-token"))).Token);

        Assert.Empty(After(new UnregisterPush(Bob, _phone, "new-token")));
        Assert.Empty(AfterRestart());
    }

    [Fact]
    public void A_device_unregisters_itself_whatever_its_token_and_doing_it_twice_changes_nothing()
    {
        After(new RegisterPush(Bob, _phone, "apns", "phone-token"));

        Assert.Empty(After(new UnregisterPush(Bob, _phone)));
        Assert.Empty(After(new UnregisterPush(Bob, _phone)));
        Assert.Empty(AfterRestart());
        Assert.Equal("apns", Assert.Single(After(new RegisterPush(Bob, _phone, "apns", "phone-token-2"))).Platform);
    }
}
