using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Natter.Actors.Media;
using Natter.Cluster.Node;
using Natter.Integration.Tests.Infrastructure;
using Natter.Testing;
using Xunit;

namespace Natter.Integration.Tests;

/// <summary>
/// A node given a media folder it cannot create (a shared volume not writable yet) still starts and serves; its
/// collections fail until the folder can be made, and then work.
/// </summary>
public sealed class NodeMediaFolderSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _data = TempDirectory.Create("node-media");
    private string _blocker = null!;
    private WebApplication _node = null!;

    public async Task InitializeAsync()
    {
        // A file where the media folder's parent should be: creating the folder fails as on a read-only volume.
        _blocker = Path.Combine(_data, "volume");
        await File.WriteAllTextAsync(_blocker, "not a folder");
        var data = _data;
        _node = NodeHost.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(Journal.Sqlite().Settings(data))
            {
                ["Urls"] = "http://127.0.0.1:0",
                ["Natter:Remoting:Port"] = FreePorts.Next().ToString(),
                ["Natter:Media:Root"] = Path.Combine(_blocker, "media"),
            });
            builder.Logging.ClearProviders();
        });
        await _node.StartAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            await _node.StopAsync();
            await _node.DisposeAsync();
        }
        finally { TempDirectory.Delete(_data); }
    }

    [Fact]
    public async Task A_node_whose_media_folder_cannot_be_made_starts_serves_and_collects_once_it_can()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_node.Urls.First()) };
        await Eventually.UntilAsync(async () => (int)(await http.GetAsync("/health/ready")).StatusCode, status => status == 200, Wait, "the node Up");
        var collector = _node.Services.GetRequiredService<MediaCollector>();
        Assert.True(collector.CollectsHere());

        await Assert.ThrowsAnyAsync<IOException>(() => collector.CollectAsync(DateTimeOffset.UtcNow));

        File.Delete(_blocker);
        var outcome = await collector.CollectAsync(DateTimeOffset.UtcNow);
        Assert.Equal(new MediaCollector.Outcome(0, 0, 0), outcome);
        Assert.True(Directory.Exists(Path.Combine(_blocker, "media", "blobs")));
    }
}
