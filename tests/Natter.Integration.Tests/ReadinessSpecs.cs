using System.Net;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Natter.Cluster.Node;
using Natter.Integration.Tests.Infrastructure;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// The readiness probe (GET /health/ready) of a node that has not joined its cluster: not ready (503), and logged as a
/// warning, not as an error, since every start passes through it. A real node process on 127.0.0.1 whose seed does not
/// answer, so it stays unjoined for the whole spec.
/// </summary>
public sealed class ReadinessSpecs : IAsyncLifetime
{
    private readonly string _data = TempDirectory.Create("natter-unjoined");
    private WebApplication? _node;

    public async Task InitializeAsync()
    {
        var silentSeed = $"akka.tcp://natter@127.0.0.1:{FreePorts.Next()}";
        _node = NodeHost.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(Journal.Sqlite().Settings(_data))
            {
                ["Urls"] = "http://127.0.0.1:0",
                ["Natter:Remoting:Port"] = FreePorts.Next().ToString(),
                ["Natter:SeedNodes:0"] = silentSeed,
            });
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddProvider(new FileLoggerProvider(Path.Combine(_data, "node.log")));
        });
        await _node.StartAsync();
    }

    public async Task DisposeAsync()
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

    [Fact]
    public async Task A_node_that_has_not_joined_is_not_ready_and_says_so_as_a_warning()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_node!.Urls.First()) };
        for (var probe = 0; probe < 3; probe++)
        {
            using var ready = await http.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("Degraded", await ready.Content.ReadAsStringAsync());
        }

        var log = await File.ReadAllTextAsync(Path.Combine(_data, "node.log"));
        Assert.Contains("Warning Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService: Health check cluster with status Degraded", log);
        Assert.Contains("not joined yet", log);
        Assert.DoesNotContain("Error Microsoft.Extensions.Diagnostics.HealthChecks", log);
    }

    [Fact]
    public async Task A_member_that_was_up_and_leaves_is_unhealthy()
    {
        await using var server = await InProcessServer.StartAsync(Journal.Sqlite());
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/ready")).StatusCode);

        var cluster = Akka.Cluster.Cluster.Get(server.Services.GetRequiredService<ActorSystem>());
        cluster.Leave(cluster.SelfAddress);
        var body = await Eventually.UntilAsync(async () =>
        {
            using var ready = await http.GetAsync("health/ready");
            return (ready.StatusCode, await ready.Content.ReadAsStringAsync());
        }, answer => answer.StatusCode != HttpStatusCode.OK, TimeSpan.FromSeconds(20), "the leaving member's readiness");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), body);
    }
}
