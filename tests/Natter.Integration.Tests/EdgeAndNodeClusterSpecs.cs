using Natter.Testing;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Natter.Actors.Media;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Hosting;
using Natter.Actors.Hosting;
using Natter.Actors.Services;
using Natter.Client;
using Natter.Client.Crypto;
using Natter.Messages;
using Natter.Messages.Users;
using Natter.Cluster.Node;
using Natter.Messages.Protocol;
using Natter.Integration.Tests.Infrastructure;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// An edge-only process and a node-only process form a cluster over real remoting: every message that
/// crosses between them (commands, replies, notices, actor references) goes through Natter's serializer.
/// </summary>
public sealed class EdgeAndNodeClusterSpecs : IAsyncLifetime
{
    private readonly string _data = TempDirectory.Create("natter-node");
    private WebApplication _node = null!;
    private InProcessServer _edge = null!;

    public async Task InitializeAsync()
    {
        var data = _data;
        var remotingPort = FreePorts.Next();
        var seed = $"akka.tcp://natter@127.0.0.1:{remotingPort}";
        _node = NodeHost.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(Journal.Sqlite().Settings(data))
            {
                ["Urls"] = "http://127.0.0.1:0",
                ["Natter:Remoting:Port"] = remotingPort.ToString(),
                ["Natter:SeedNodes:0"] = seed,
                // The edge's media folder, as a shared volume would make it (k8s/): the node collects it.
                ["Natter:Media:Root"] = Path.Combine(data, "media"),
            });
            builder.Logging.ClearProviders();
        });
        await _node.StartAsync();

        _edge = await InProcessServer.StartAsync(Journal.Sqlite(), data, new Dictionary<string, string?>
        {
            ["Natter:Roles:0"] = "edge",
            ["Natter:Auth:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Natter:SeedNodes:0"] = seed,
        });
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_edge is not null) await _edge.DisposeAsync();
        }
        finally
        {
            try
            {
                if (_node is not null)
                {
                    await _node.StopAsync();
                    await _node.DisposeAsync();
                }
            }
            finally { TempDirectory.Delete(_data); }
        }
    }

    [Fact]
    public async Task Messages_flow_between_devices_on_an_edge_through_entities_on_a_node()
    {
        var alice = await _edge.RegisterAsync();
        var bob = await _edge.RegisterAsync();
        await using var aliceSocket = await _edge.ConnectAsync(alice);
        await using var bobSocket = await _edge.ConnectAsync(bob);
        var chatId = await aliceSocket.OpenChatAsync("+" + bob.UserId);
        await bobSocket.SyncAsync();

        for (var i = 1; i <= 20; i++) await aliceSocket.SendAsync(chatId, $"n{i}", [(byte)i]);
        await bobSocket.Received.WaitForCountAsync(chatId, 20, TimeSpan.FromSeconds(30));
        await bobSocket.MarkReadAsync(chatId, 20);
        var receipt = await aliceSocket.NextAsync<Natter.Messages.Protocol.ReceiptFrame>(r => r.Kind == "read");

        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), bobSocket.Received.Of(chatId).Select(m => m.Seq));
        Assert.Equal(20, receipt.Seq);
        Assert.Equal(20, (await _edge.Api.GetMessagesAsync(bob.AccessToken, chatId, limit: 100)).Messages.Count);
    }

    [Fact]
    public async Task A_group_on_the_node_fans_out_to_the_edges_connections_and_stops_at_a_removal()
    {
        var alice = await _edge.RegisterAsync();
        var bob = await _edge.RegisterAsync();
        var carol = await _edge.RegisterAsync();
        await using var aliceSocket = await _edge.ConnectAsync(alice);
        await using var bobSocket = await _edge.ConnectAsync(bob);
        await using var carolSocket = await _edge.ConnectAsync(carol);
        await Task.WhenAll(aliceSocket.SyncAsync(), bobSocket.SyncAsync(), carolSocket.SyncAsync());

        // The edge's fanout subscribes with the ChatActor on the node, across remoting.
        var groupId = (await aliceSocket.GroupAsync("create", name: "Remote", userIds: ["+" + bob.UserId, "+" + carol.UserId])).GroupId;
        for (var i = 1; i <= 10; i++) await aliceSocket.SendAsync(groupId, $"g{i}", [(byte)i]);
        await bobSocket.Received.WaitForCountAsync(groupId, 11, TimeSpan.FromSeconds(30));
        await carolSocket.Received.WaitForCountAsync(groupId, 11, TimeSpan.FromSeconds(30));

        var removed = await aliceSocket.GroupAsync("remove", groupId, ["+" + carol.UserId]);
        var last = await aliceSocket.SendAsync(groupId, "after", [0]);
        await bobSocket.Received.WaitForCountAsync(groupId, (int)last.Seq, TimeSpan.FromSeconds(30));
        await bobSocket.MarkDeliveredAsync(groupId, last.Seq);
        await carolSocket.Received.WaitForCountAsync(groupId, (int)removed.Seq, TimeSpan.FromSeconds(30));
        // Bob has the last message, so anything sent to Carol with it is queued before this round trip's pong.
        await carolSocket.RoundTripAsync();

        Assert.Equal(Enumerable.Range(1, (int)last.Seq).Select(i => (long)i), bobSocket.Received.Of(groupId).Select(m => m.Seq));
        Assert.Equal(removed.Seq, carolSocket.Received.Of(groupId)[^1].Seq);
        // Bob's receipt travels on his connection, this question on Alice's: ask until it has landed.
        var info = await Eventually.UntilAsync(() => aliceSocket.MessageInfoAsync(groupId, last.Seq), i => i.DeliveredTo.Count > 0,
            TimeSpan.FromSeconds(30), "Bob's delivered receipt");
        Assert.Equal([alice.UserId], info.ReadBy);
        Assert.Equal([bob.UserId], info.DeliveredTo);
    }

    [Fact]
    public async Task A_device_change_on_the_node_reaches_the_edge_s_cache_of_devices_through_pub_sub()
    {
        var alice = await _edge.RegisterAsync();
        var bob = await _edge.RegisterAsync();
        var bobKeys = DeviceKeys.Generate(1);
        await _edge.Api.PublishKeysAsync(bob.AccessToken, bobKeys.PublishRequest([]));
        await using var aliceSocket = await _edge.ConnectAsync(alice);
        var chatId = await aliceSocket.OpenChatAsync("+" + bob.UserId);
        var sealedForOldKey = new EnvelopeFrame(bob.UserId, bob.DeviceId, [9], IdentityTags.Of(bobKeys.Identity.IdentityKey));
        // The node's mediator knows of the edge's subscription (by gossip), and the edge keeps bob's devices once its
        // cache's grace (KeyedDeviceInvalidations.SubscriptionSpread) has passed.
        var nodeSystem = _node.Services.GetRequiredService<ActorSystem>();
        await Eventually.UntilAsync(() => DistributedPubSub.Get(nodeSystem).Mediator.Ask<CurrentTopics>(GetTopics.Instance),
            t => t.Topics.Contains(KeyedDevicesChanged.Topic), TimeSpan.FromSeconds(20), "the edge's subscription on the node");
        var cache = _edge.Services.GetRequiredService<KeyedDeviceCache>();
        var sent = 0;
        await Eventually.UntilAsync(async () =>
        {
            await aliceSocket.SendAsync(chatId, $"before-{++sent}", [1], envelopes: [sealedForOldKey]);
            return cache.Find(new UserId(bob.UserId));
        }, kept => kept is not null, TimeSpan.FromSeconds(40), "bob's devices kept by the edge (10 s after it is up)");

        // Bob reinstalls through the node alone (as through another edge): only the cluster's pub-sub tells this edge.
        var users = await ActorRegistry.For(nodeSystem).GetAsync<UserRegion>();
        var reinstalled = DeviceKeys.Generate(0);
        await users.Ask<UserReplies.KeysStatus>(new UserCommands.PublishKeys(new UserId(bob.UserId), new DeviceId(bob.DeviceId),
            reinstalled.Identity.IdentityKey, reinstalled.Identity.IdentityDhKey.PublicKey, reinstalled.Identity.IdentityDhSignature,
            new SignedPreKey(reinstalled.SignedPreKey.Id, reinstalled.SignedPreKey.PublicKey, reinstalled.SignedPreKey.Signature), [],
            DateTimeOffset.UtcNow), TimeSpan.FromSeconds(10));

        // Long before the kept devices would expire (30 s), a send sealed for the old key is refused.
        var attempt = 0;
        var refusal = await Eventually.UntilAsync(async () =>
        {
            try
            {
                await aliceSocket.SendAsync(chatId, $"after-{++attempt}", [1], envelopes: [sealedForOldKey]);
                return null;
            }
            catch (NatterApiException e) { return e; }
        }, e => e is not null, TimeSpan.FromSeconds(5), "a refusal of the send sealed for bob's old key");
        Assert.Equal(ErrorCodes.StaleDevices, refusal!.Code);
        Assert.Equal([new DeviceRef(bob.UserId, bob.DeviceId)], refusal.Changed);
    }

    [Fact]
    public async Task The_node_collects_the_media_folder_it_shares_with_the_edge()
    {
        var alice = await _edge.RegisterAsync();
        var bob = await _edge.RegisterAsync();
        var chatId = (await _edge.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId)).ChatId;
        var kept = await UploadAsync(alice, RandomNumberGenerator.GetBytes(64 * 1024));
        var orphan = await UploadAsync(alice, RandomNumberGenerator.GetBytes(64 * 1024));
        await using var socket = await _edge.ConnectAsync(alice);
        await socket.SendAsync(chatId, "photo", [], media: new MediaFrame(kept.Id, kept.Size, "image/png"));

        // Only processes that host entities collect; of those, the oldest (here the one node).
        Assert.Null(_edge.Services.GetService<MediaCollector>());
        var collector = _node.Services.GetRequiredService<MediaCollector>();
        Assert.True(collector.CollectsHere());
        var outcome = await collector.CollectAsync(DateTimeOffset.UtcNow.AddDays(2));

        Assert.Equal((1, 1), (outcome.Deleted, outcome.Kept));
        using var photo = await _edge.Api.DownloadMediaAsync(bob.AccessToken, kept.Id, chatId, 1);
        Assert.Equal(kept.Size, (await photo.Content.ReadAsByteArrayAsync()).Length);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_data, "media"), orphan.Id, SearchOption.AllDirectories));
    }

    [Fact]
    public async Task The_node_shows_an_operator_where_the_shards_and_entities_are()
    {
        var alice = await _edge.RegisterAsync();
        var bob = await _edge.RegisterAsync();
        var chatId = (await _edge.Api.OpenChatAsync(alice.AccessToken, "+" + bob.UserId)).ChatId;
        await _edge.Api.PostMessageAsync(alice.AccessToken, chatId, "m1", [1]);

        using var http = new HttpClient { BaseAddress = new Uri(_node.Urls.First()) };
        var view = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/cluster/shards")).RootElement;

        Assert.True(view.GetProperty("complete").GetBoolean());
        var members = view.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(2, members.Count);
        var node = Assert.Single(members, m => m.GetProperty("address").GetString() == view.GetProperty("self").GetString());
        Assert.Equal(["media", "node"], node.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.All(members, m => Assert.True(m.GetProperty("reachable").GetBoolean()));
        // Entities live on the node only: the edge runs proxies, which hold no shards.
        int EntitiesOf(string type) => Assert.Single(view.GetProperty("regions").GetProperty(type).EnumerateArray()).GetProperty("entities").GetInt32();
        Assert.True(EntitiesOf("chat") >= 1);
        Assert.True(EntitiesOf("user") >= 2);
        Assert.Empty(view.GetProperty("regions").GetProperty("chat")[0].GetProperty("failedShards").EnumerateArray());
    }

    private Task<StoredMedia> UploadAsync(DeviceSession who, byte[] bytes) =>
        _edge.Api.UploadMediaAsync(who.AccessToken, new MemoryStream(bytes), "application/octet-stream", Convert.ToHexStringLower(SHA256.HashData(bytes)));
}
