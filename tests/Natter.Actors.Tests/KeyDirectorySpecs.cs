using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Natter.Actors.Presence;
using Natter.Actors.Users;
using Natter.Messages;
using Natter.Messages.Users;
using Xunit;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserReplies;

namespace Natter.Actors.Tests;

/// <summary>
/// The key directory of a UserActor against a real SQLite journal: one-time prekeys handed out once (also
/// across a restart), bundles without one once they ran out, the low-prekey notice, and identity changes.
/// Signatures are the edge's to check; here keys are just bytes.
/// </summary>
public sealed class KeyDirectorySpecs : TestKit
{
    private static readonly UserId Alice = new("15550000101");
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TestProbe _presence;

    public KeyDirectorySpecs() : base(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "key-specs")
    {
        _presence = CreateTestProbe("presence");
    }

    private IActorRef StartUser() => Sys.ActorOf(UserActor.PropsFor(Alice.Value, _presence));

    private static byte[] Key(byte fill) => Enumerable.Repeat(fill, 32).ToArray();

    private static PublishKeys Publish(DeviceId device, byte identity, int oneTimeKeys, uint firstId = 1) =>
        new(Alice, device, Key(identity), Key((byte)(identity + 1)), new byte[64], new SignedPreKey(1, Key(9), new byte[64]),
            Enumerable.Range(0, oneTimeKeys).Select(i => new OneTimePreKey(firstId + (uint)i, Key((byte)(100 + i)))).ToList(), T0);

    private DeviceId CreateAccount(IActorRef user)
    {
        user.Tell(new IssueVerification(Alice, "HASH", T0.AddMinutes(10)));
        ExpectMsg<VerificationIssued>(Wait);
        user.Tell(new VerifyAndLinkDevice(Alice, "HASH", "phone", T0));
        return ExpectMsg<DeviceLinked>(Wait).DeviceId;
    }

    private Bundles Claim(IActorRef user, DeviceId? device = null)
    {
        user.Tell(new ClaimBundles(Alice, device, T0));
        return ExpectMsg<Bundles>(Wait);
    }

    [Fact]
    public void Each_one_time_prekey_is_handed_out_once_even_across_a_restart_then_bundles_come_without_one()
    {
        var user = StartUser();
        var phone = CreateAccount(user);
        user.Tell(Publish(phone, identity: 1, oneTimeKeys: 3));
        Assert.Equal(3, ExpectMsg<KeysStatus>(Wait).OneTimePreKeysLeft);

        Assert.Equal(1u, Claim(user).Items.Single().OneTimePreKey!.Id);
        Assert.Equal(2u, Claim(user, phone).Items.Single().OneTimePreKey!.Id);

        Watch(user);
        Sys.Stop(user);
        ExpectTerminated(user, Wait);
        var restarted = StartUser();
        var third = Claim(restarted).Items.Single();
        Assert.Equal((3u, phone), (third.OneTimePreKey!.Id, third.Device));
        Assert.Equal(Key(1), third.IdentityKey);

        // Ran out: the bundle still lets a session start, with the signed prekey only.
        var last = Claim(restarted).Items.Single();
        Assert.Null(last.OneTimePreKey);
        Assert.Equal(1u, last.SignedPreKey.Id);
    }

    [Fact]
    public void The_device_is_told_when_its_one_time_prekeys_run_low()
    {
        var user = StartUser();
        var phone = CreateAccount(user);
        user.Tell(Publish(phone, identity: 1, oneTimeKeys: UserState.LowPreKeys));
        ExpectMsg<KeysStatus>(Wait);
        _presence.FishForMessage(m => m is PresenceCommands.DeliverDeviceNotice { Notice: DeviceNotices.DevicesChanged }, Wait);

        Claim(user);
        var notice = _presence.FishForMessage<PresenceCommands.DeliverDeviceNotice>(m => m.Notice is DeviceNotices.PreKeysLow, Wait);
        Assert.Equal((phone, (DeviceId?)phone), (((DeviceNotices.PreKeysLow)notice.Notice).Device, notice.Device));
        Assert.Equal(UserState.LowPreKeys - 1, ((DeviceNotices.PreKeysLow)notice.Notice).Remaining);

        // Publishing more adds to what is left.
        user.Tell(Publish(phone, identity: 1, oneTimeKeys: 20, firstId: 100));
        Assert.Equal(UserState.LowPreKeys - 1 + 20, ExpectMsg<KeysStatus>(Wait).OneTimePreKeysLeft);
    }

    [Fact]
    public void A_different_identity_key_replaces_the_old_one_and_drops_its_prekeys()
    {
        var user = StartUser();
        var phone = CreateAccount(user);
        user.Tell(Publish(phone, identity: 1, oneTimeKeys: 5));
        ExpectMsg<KeysStatus>(Wait);

        user.Tell(Publish(phone, identity: 50, oneTimeKeys: 2, firstId: 500));
        var status = ExpectMsg<KeysStatus>(Wait);
        Assert.Equal([500u, 501u], status.OneTimePreKeyIds);
        _presence.FishForMessage(m => m is PresenceCommands.DeliverDeviceNotice { Notice: DeviceNotices.DevicesChanged }, Wait);
        Assert.Equal(Key(50), Claim(user).Items.Single().IdentityKey);
    }

    [Fact]
    public void Bad_publishes_and_claims_are_refused_with_their_codes()
    {
        var user = StartUser();
        var phone = CreateAccount(user);

        user.Tell(new ClaimBundles(Alice, phone, T0));
        Assert.Equal(UserRejections.KeysNotPublished, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(new ClaimBundles(Alice, new DeviceId(9), T0));
        Assert.Equal(UserRejections.UnknownDevice, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(Publish(new DeviceId(9), identity: 1, oneTimeKeys: 1));
        Assert.Equal(UserRejections.UnknownDevice, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(Publish(phone, identity: 1, oneTimeKeys: 1) with { IdentityKey = new byte[31] });
        Assert.Equal(UserRejections.InvalidKey, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(Publish(phone, identity: 1, oneTimeKeys: UserState.MaxOneTimePreKeysPerPublish + 1));
        Assert.Equal(UserRejections.InvalidKey, ExpectMsg<UserRejected>(Wait).Code);
        var twice = Publish(phone, identity: 1, oneTimeKeys: 1);
        user.Tell(twice with { OneTimePreKeys = [.. twice.OneTimePreKeys, .. twice.OneTimePreKeys] });
        Assert.Equal(UserRejections.InvalidKey, ExpectMsg<UserRejected>(Wait).Code);
    }

    private DeviceId Link(IActorRef user, string linkId, DeviceEndorsement? endorsement, DeviceId primary)
    {
        user.Tell(new RequestLink(Alice, linkId, linkId, "A-" + linkId, "S-" + linkId, T0, T0.AddMinutes(5)));
        ExpectMsg<LinkStarted>(Wait);
        user.Tell(new ApproveLink(Alice, primary, linkId, "A-" + linkId, T0, endorsement));
        var devices = ExpectMsg<Account>(Wait).Devices;
        user.Tell(new CompleteLink(Alice, linkId, "S-" + linkId, T0));
        var linked = ExpectMsg<DeviceLinked>(Wait);
        Assert.Equal(endorsement?.IdentityKey, linked.Endorsement?.IdentityKey);
        Assert.Equal(devices[^1].Id, linked.DeviceId);
        return linked.DeviceId;
    }

    [Fact]
    public void A_linked_device_publishes_only_the_key_the_primary_endorsed_and_a_new_account_key_logs_it_out()
    {
        var user = StartUser();
        var phone = CreateAccount(user);
        user.Tell(Publish(phone, identity: 1, oneTimeKeys: 1));
        ExpectMsg<KeysStatus>(Wait);
        var laptop = Link(user, "laptop", new DeviceEndorsement(Key(30), Key(1), new byte[64], new byte[32]), phone);
        var plain = Link(user, "plain", null, phone);

        // Keys nobody endorsed, and another key than the endorsed one, are refused.
        user.Tell(Publish(plain, identity: 40, oneTimeKeys: 1));
        Assert.Equal(UserRejections.DeviceNotEndorsed, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(Publish(laptop, identity: 50, oneTimeKeys: 1));
        Assert.Equal(UserRejections.DeviceNotEndorsed, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(Publish(laptop, identity: 30, oneTimeKeys: 1));
        ExpectMsg<KeysStatus>(Wait);
        var listed = Claim(user).Items;
        Assert.Equal([(phone, true, "none"), (laptop, false, Convert.ToBase64String(new byte[64]))],
            listed.Select(b => (b.Device, b.Primary, b.AccountSignature is { } s ? Convert.ToBase64String(s) : "none")).ToArray());

        // The endorsement is in the journal: after a restart the laptop is still handed out, with it.
        Watch(user);
        Sys.Stop(user);
        ExpectTerminated(user, Wait);
        user = StartUser();
        Assert.Equal([phone, laptop], Claim(user).Items.Select(b => b.Device).ToArray());

        // An endorsement under a key that is not the primary's is refused (the edge checked the signature with it).
        user.Tell(new RequestLink(Alice, "tablet", "tablet", "A", "S", T0, T0.AddMinutes(5)));
        ExpectMsg<LinkStarted>(Wait);
        user.Tell(new ApproveLink(Alice, phone, "tablet", "A", T0, new DeviceEndorsement(Key(60), Key(2), new byte[64], new byte[32])));
        Assert.Equal(UserRejections.InvalidKey, ExpectMsg<UserRejected>(Wait).Code);

        // The primary's new identity key voids the laptop's endorsement: the laptop is removed, the keyless device stays.
        user.Tell(Publish(phone, identity: 2, oneTimeKeys: 1));
        ExpectMsg<KeysStatus>(Wait);
        _presence.FishForMessage(m => m is PresenceCommands.DeviceRevoked r && r.Device == laptop, Wait);
        user.Tell(new UserQueries.GetAccount(Alice));
        Assert.Equal([phone, plain], ExpectMsg<Account>(Wait).Devices.Select(d => d.Id).ToArray());
        Assert.Equal([phone], Claim(user).Items.Select(b => b.Device).ToArray());
    }

    private static SignedDeviceList List(long version, byte account, params byte[] keys) =>
        new(version, keys.Select(Key).ToList(), Key(account), new byte[64]);

    [Fact]
    public void The_signed_device_list_grows_only_names_the_primary_survives_a_restart_and_leaves_out_the_devices_it_does_not_name()
    {
        var user = StartUser();
        var phone = CreateAccount(user);
        user.Tell(Publish(phone, identity: 1, oneTimeKeys: 1));
        ExpectMsg<KeysStatus>(Wait);
        var laptop = Link(user, "laptop", new DeviceEndorsement(Key(30), Key(1), new byte[64], new byte[32]), phone);
        user.Tell(Publish(laptop, identity: 30, oneTimeKeys: 1));
        ExpectMsg<KeysStatus>(Wait);

        // Refused: from a linked device, under another key, without the primary's key, with a key twice, or not newer.
        user.Tell(new PublishDeviceList(Alice, laptop, List(1, 1, 1, 30), T0));
        Assert.Equal(UserRejections.NotPrimary, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(new PublishDeviceList(Alice, phone, List(1, 2, 1, 30), T0));
        Assert.Equal(UserRejections.InvalidKey, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(new PublishDeviceList(Alice, phone, List(1, 1, 30), T0));
        Assert.Equal(UserRejections.InvalidField, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(new PublishDeviceList(Alice, phone, List(1, 1, 1, 30, 30), T0));
        Assert.Equal(UserRejections.InvalidKey, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(new PublishDeviceList(Alice, phone, List(2, 1, 1, 30), T0));
        Assert.Equal(2, ExpectMsg<KeyedDevices>(Wait).DeviceList!.Version);
        _presence.FishForMessage(m => m is PresenceCommands.DeliverDeviceNotice { Notice: DeviceNotices.DevicesChanged }, Wait);
        user.Tell(new PublishDeviceList(Alice, phone, List(2, 1, 1), T0));
        Assert.Equal(UserRejections.StaleDeviceList, ExpectMsg<UserRejected>(Wait).Code);

        // An endorsed approval needs a list naming the new key once the account has one; it is journaled with the approval.
        user.Tell(new RequestLink(Alice, "tablet", "tablet", "A", "S", T0, T0.AddMinutes(5)));
        ExpectMsg<LinkStarted>(Wait);
        var tabletEndorsement = new DeviceEndorsement(Key(60), Key(1), new byte[64], new byte[32]);
        user.Tell(new ApproveLink(Alice, phone, "tablet", "A", T0, tabletEndorsement));
        Assert.Equal(UserRejections.MissingField, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(new ApproveLink(Alice, phone, "tablet", "A", T0, tabletEndorsement, List(3, 1, 1, 30)));
        Assert.Equal(UserRejections.InvalidField, ExpectMsg<UserRejected>(Wait).Code);
        user.Tell(new ApproveLink(Alice, phone, "tablet", "A", T0, tabletEndorsement, List(3, 1, 1, 30, 60)));
        ExpectMsg<Account>(Wait);

        // Replayed from the journal; a list without the laptop leaves it out of the directory (its keys are kept).
        Watch(user);
        Sys.Stop(user);
        ExpectTerminated(user, Wait);
        user = StartUser();
        user.Tell(new UserQueries.GetKeyedDevices(Alice));
        Assert.Equal(3, ExpectMsg<KeyedDevices>(Wait).DeviceList!.Version);
        user.Tell(new PublishDeviceList(Alice, phone, List(4, 1, 1, 60), T0));
        Assert.Equal([phone], ExpectMsg<KeyedDevices>(Wait).Devices.Select(d => d.Device).ToArray());
        Assert.Equal([phone], Claim(user).Items.Select(b => b.Device).ToArray());
        Assert.Equal(4, Claim(user).DeviceList!.Version);

        // A new account key voids the list with its endorsements: nothing is served until the new key signs one.
        user.Tell(Publish(phone, identity: 2, oneTimeKeys: 1));
        ExpectMsg<KeysStatus>(Wait);
        user.Tell(new UserQueries.GetKeyedDevices(Alice));
        Assert.Null(ExpectMsg<KeyedDevices>(Wait).DeviceList);
        user.Tell(new PublishDeviceList(Alice, phone, List(1, 2, 2), T0));
        Assert.Equal(1, ExpectMsg<KeyedDevices>(Wait).DeviceList!.Version);
    }
}
