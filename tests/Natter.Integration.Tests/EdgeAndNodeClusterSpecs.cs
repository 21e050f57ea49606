using Natter.Testing;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Natter.Cluster.Node;
using Natter.Integration.Tests.Infrastructure;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// An edge-only process and a node-only process form a cluster over real remoting: every message that
/// crosses between them (commands, replies, notices, actor references) goes through Natter's serializer.
/// </summary>
public sealed class EdgeAndNodeClusterSpecs : IAsyncLifetime
{
    private WebApplication _node = null!;
    private InProcessServer _edge = null!;

    public async Task InitializeAsync()
    {
        var data = TempDirectory.Create("natter-node");
        var remotingPort = FreePorts.Next();
        var seed = $"akka.tcp://natter@127.0.0.1:{remotingPort}";
        _node = NodeHost.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(Journal.Sqlite().Settings(data))
            {
                ["Urls"] = "http://127.0.0.1:0",
                ["Natter:Remoting:Port"] = remotingPort.ToString(),
                ["Natter:SeedNodes:0"] = seed,
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
        await _edge.DisposeAsync();
        await _node.StopAsync();
        await _node.DisposeAsync();
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

}
