using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Natter.Actors.Services;
using Natter.Actors.Users;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Natter.Messages.Users;
using Xunit;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserReplies;

namespace Natter.Actors.Tests;

/// <summary>
/// The envelope check of sealed sends with an edge's cache of users' devices: a send the cache confirms asks no
/// entity; a send the cache disagrees with is decided by the entities; a user's change is published by its entity
/// once durable, and only when the devices handed out for sealed sends changed.
/// </summary>
public sealed class EnvelopeCheckCacheSpecs() : TestKit(SqliteJournalConfig.For(SqliteJournalConfig.NewDatabaseFile()), "envelope-cache")
{
    private static readonly UserId Alice = new("15550000301");
    private static readonly UserId Bob = new("15550000302");
    private static readonly ChatId Chat = ChatId.Direct(Alice, Bob);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    // What each user's entity answers now, and how often it was asked.
    private readonly ConcurrentDictionary<UserId, KeyedDevices> _truth = new();
    private readonly ConcurrentDictionary<UserId, int> _asks = new();

    private static byte[] Key(byte fill) => Enumerable.Repeat(fill, 32).ToArray();

    private static KeyedDevices Devices(UserId user, params (int Device, byte Key)[] devices) =>
        new(user, true, devices.Select(d => new DeviceKeyIdentity(new DeviceId(d.Device), Key(d.Key), Key(9), new byte[64])).ToList());

    // Whether the users' entities refuse a device removal (it changes nothing) or carry it out.
    private volatile bool _refuseRemovals;

    private (ChatGateway Gateway, KeyedDeviceCache Cache) Start() => Start(out _);

    private (ChatGateway Gateway, KeyedDeviceCache Cache) Start(out IActorRef usersRegion)
    {
        var users = CreateTestProbe("users");
        users.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            switch (message)
            {
                case UserQueries.GetKeyedDevices q:
                    _asks.AddOrUpdate(q.UserId, 1, (_, n) => n + 1);
                    sender.Tell(_truth[q.UserId]);
                    break;
                case RemoveDevice r:
                    sender.Tell(_refuseRemovals ? new UserRejected(r.UserId, ErrorCodes.NotPrimary, "not the primary") : new Account(r.UserId, true, []));
                    break;
            }
            return AutoPilot.KeepRunning;
        }));
        usersRegion = users.Ref;
        var cache = new KeyedDeviceCache(TimeSpan.FromMinutes(1), 100, Wait);
        cache.Listen(TimeSpan.Zero);
        return (new ChatGateway(CreateTestProbe("chats").Ref, users.Ref, Wait, cache), cache);
    }

    private static DeviceEnvelope[] To(params (UserId User, int Device)[] devices) =>
        devices.Select(d => new DeviceEnvelope(d.User, new DeviceId(d.Device), [7])).ToArray();

    private int Asks(UserId user) => _asks.GetValueOrDefault(user);

    [Fact]
    public async Task A_send_the_cache_confirms_asks_no_entity()
    {
        var (gateway, _) = Start();
        _truth[Alice] = Devices(Alice, (1, 1));
        _truth[Bob] = Devices(Bob, (1, 2));

        var first = await gateway.CheckEnvelopesAsync(Chat, Alice, new DeviceId(1), To((Bob, 1)));
        var second = await gateway.CheckEnvelopesAsync(Chat, Alice, new DeviceId(1), To((Bob, 1)),
            new Dictionary<DeviceRef, string> { [new DeviceRef(Bob.Value, 1)] = IdentityTags.Of(Key(2)) });

        Assert.True(first.Ok && first.Value is null);
        Assert.True(second.Ok && second.Value is null);
        Assert.Equal((1, 1), (Asks(Alice), Asks(Bob)));
    }

    [Fact]
    public async Task A_send_the_cache_disagrees_with_is_decided_by_the_entities()
    {
        var (gateway, _) = Start();
        _truth[Alice] = Devices(Alice, (1, 1));
        _truth[Bob] = Devices(Bob, (1, 2));
        await gateway.CheckEnvelopesAsync(Chat, Alice, new DeviceId(1), To((Bob, 1)));

        // Bob linked a laptop (heard by nobody here): a send that names it is right, and passes.
        _truth[Bob] = Devices(Bob, (1, 2), (2, 3));
        var withLaptop = await gateway.CheckEnvelopesAsync(Chat, Alice, new DeviceId(1), To((Bob, 1), (Bob, 2)));
        Assert.True(withLaptop.Ok && withLaptop.Value is null);
        Assert.Equal(2, Asks(Bob));
        Assert.Equal(1, Asks(Alice));

        // A send sealed for a key bob's phone never had is refused (the cache, renewed just now, agrees).
        var stale = await gateway.CheckEnvelopesAsync(Chat, Alice, new DeviceId(1), To((Bob, 1), (Bob, 2)),
            new Dictionary<DeviceRef, string> { [new DeviceRef(Bob.Value, 1)] = IdentityTags.Of(Key(99)) });
        Assert.Equal([new DeviceRef(Bob.Value, 1)], stale.Value!.Changed);
        Assert.Equal(3, Asks(Bob));

        // And one missing the laptop, though a cache that missed the link would have confirmed it, is refused once asked.
        var missing = await gateway.CheckEnvelopesAsync(Chat, Alice, new DeviceId(1), To((Bob, 1)));
        Assert.Equal([new DeviceRef(Bob.Value, 2)], missing.Value!.Missing);
    }

    [Fact]
    public async Task A_send_sealed_for_a_new_key_the_cache_has_not_seen_passes_once_the_entity_confirms_it()
    {
        var (gateway, _) = Start();
        _truth[Alice] = Devices(Alice, (1, 1));
        _truth[Bob] = Devices(Bob, (1, 2));
        await gateway.CheckEnvelopesAsync(Chat, Alice, new DeviceId(1), To((Bob, 1)));

        // Bob reinstalled (news not heard here); alice already seals for the new key.
        _truth[Bob] = Devices(Bob, (1, 5));
        var sealedForNewKey = await gateway.CheckEnvelopesAsync(Chat, Alice, new DeviceId(1), To((Bob, 1)),
            new Dictionary<DeviceRef, string> { [new DeviceRef(Bob.Value, 1)] = IdentityTags.Of(Key(5)) });

        Assert.True(sealedForNewKey.Ok && sealedForNewKey.Value is null);
        Assert.Equal((1, 2), (Asks(Alice), Asks(Bob)));
    }

    [Fact]
    public async Task A_change_heard_makes_the_next_send_ask_again()
    {
        var (gateway, cache) = Start();
        _truth[Alice] = Devices(Alice, (1, 1));
        _truth[Bob] = Devices(Bob, (1, 2), (2, 3));
        await gateway.CheckEnvelopesAsync(Chat, Alice, new DeviceId(1), To((Bob, 1), (Bob, 2)));

        // Bob's laptop is removed; the edge hears it. The send still naming the laptop agrees with nothing kept.
        _truth[Bob] = Devices(Bob, (1, 2));
        cache.Changed(Bob);
        var stale = await gateway.CheckEnvelopesAsync(Chat, Alice, new DeviceId(1), To((Bob, 1), (Bob, 2)));
        Assert.Equal([new DeviceRef(Bob.Value, 2)], stale.Value!.Extra);
        Assert.Equal((1, 2), (Asks(Alice), Asks(Bob)));
    }

    [Fact]
    public async Task The_edge_that_carries_a_change_forgets_the_user_before_it_answers_unless_the_change_is_refused()
    {
        var (gateway, cache) = Start(out var users);
        var userGateway = new UserGateway(users, CreateTestProbe("presence").Ref, Wait, cache);
        _truth[Alice] = Devices(Alice, (1, 1));
        _truth[Bob] = Devices(Bob, (1, 2), (2, 3));
        await gateway.CheckEnvelopesAsync(Chat, Alice, new DeviceId(1), To((Bob, 1), (Bob, 2)));
        Assert.NotNull(cache.Find(Bob));

        _refuseRemovals = true;
        var refused = await userGateway.RemoveDeviceAsync(Bob, new DeviceId(2), new DeviceId(2), T0);
        Assert.Equal(ErrorCodes.NotPrimary, refused.ErrorCode);
        Assert.NotNull(cache.Find(Bob));

        _refuseRemovals = false;
        Assert.True((await userGateway.RemoveDeviceAsync(Bob, new DeviceId(1), new DeviceId(2), T0)).Ok);
        Assert.Null(cache.Find(Bob));
    }

    [Fact]
    public void A_user_s_entity_publishes_a_change_of_its_keyed_devices_before_it_answers_and_nothing_else()
    {
        var pubSub = CreateTestProbe("pub-sub");
        var user = Sys.ActorOf(UserActor.PropsFor(Alice.Value, CreateTestProbe("presence"), null, pubSub));
        user.Tell(new IssueVerification(Alice, "HASH", T0.AddMinutes(10)));
        ExpectMsg<VerificationIssued>(Wait);
        user.Tell(new VerifyAndLinkDevice(Alice, "HASH", "phone", T0));
        var phone = ExpectMsg<DeviceLinked>(Wait).DeviceId;
        // An account with a device but no keys hands nothing out: nothing changed for sealed sends.
        pubSub.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        user.Tell(Publish(phone, identity: 1));
        ExpectMsg<KeysStatus>(Wait);
        Assert.True(pubSub.HasMessages); // told before the answer
        var published = pubSub.ExpectMsg<Publish>(Wait);
        Assert.Equal((KeyedDevicesChanged.Topic, (object)new KeyedDevicesChanged(Alice)), (published.Topic, published.Message));

        // The same keys again (fresh prekeys only), and a settings change: the same devices and keys.
        user.Tell(Publish(phone, identity: 1));
        ExpectMsg<KeysStatus>(Wait);
        user.Tell(new ChangeSettings(Alice, new UserSettings(Theme: "dark"), T0));
        ExpectMsg<Profile>(Wait);
        pubSub.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        // A reinstall: a new identity key.
        user.Tell(Publish(phone, identity: 5));
        ExpectMsg<KeysStatus>(Wait);
        Assert.Equal(new KeyedDevicesChanged(Alice), pubSub.ExpectMsg<Publish>(Wait).Message);

        // The phone number verified again on a new phone: a new primary, which has no keys yet; the old one is out.
        user.Tell(new IssueVerification(Alice, "HASH2", T0.AddMinutes(10)));
        ExpectMsg<VerificationIssued>(Wait);
        pubSub.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        user.Tell(new VerifyAndLinkDevice(Alice, "HASH2", "new phone", T0));
        ExpectMsg<DeviceLinked>(Wait);
        Assert.True(pubSub.HasMessages);
        Assert.Equal(new KeyedDevicesChanged(Alice), pubSub.ExpectMsg<Publish>(Wait).Message);
    }

    private static PublishKeys Publish(DeviceId device, byte identity) =>
        new(Alice, device, Key(identity), Key((byte)(identity + 1)), new byte[64], new SignedPreKey(1, Key(9), new byte[64]),
            [new OneTimePreKey(identity * 10u, Key(100))], T0);
}
