using System.Net;
using Microsoft.AspNetCore.Builder;
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
}
