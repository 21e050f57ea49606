using Natter.Actors.Chats;
using Natter.Actors.Hosting;
using Natter.Actors.Notifications;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>Settings that would silently fall back to something else are refused at start-up.</summary>
public sealed class NatterOptionsSpecs
{
    [Fact]
    public void The_embedded_default_is_both_roles_on_sqlite_and_valid()
    {
        var options = new NatterOptions();
        options.Validate();
        Assert.Equal([NatterRoles.Edge, NatterRoles.Node], options.EffectiveRoles);
        Assert.False(options.Persistence.IsPostgres);
        Assert.Equal($"Data Source={Path.Combine("data", "natter.db")}", options.Persistence.EffectiveConnectionString);
    }

    [Theory]
    [InlineData("consistent-hash")]
    [InlineData("Least-Shard")]
    public void An_unknown_shard_allocation_is_refused(string allocation)
    {
        Assert.Equal(ShardAllocations.ConsistentHashing, new NatterOptions().ShardAllocation);
        var options = new NatterOptions { ShardAllocation = allocation };
        Assert.Contains("unknown strategy", Assert.Throws<InvalidOperationException>(options.Validate).Message);
    }

    [Fact]
    public void The_static_push_tokens_of_earlier_versions_stop_the_start_naming_what_replaces_them()
    {
        foreach (var push in new[] { new PushEndpoints { FcmAccessToken = "ya29.old" }, new PushEndpoints { ApnsAuthToken = "eyJ.old" } })
        {
            var options = new NatterOptions { Notifications = new NotificationOptions { Push = push } };
            var refused = Assert.Throws<InvalidOperationException>(options.Validate);
            Assert.Contains("FcmServiceAccountFile", refused.Message);
            Assert.Contains("ApnsSigningKeyFile", refused.Message);
        }
    }

    [Theory]
    [InlineData("postgresql")]
    [InlineData("mysql")]
    public void An_unknown_journal_provider_is_refused(string provider)
    {
        var options = new NatterOptions { Persistence = new PersistenceOptions { Provider = provider } };
        Assert.Contains("unknown provider", Assert.Throws<InvalidOperationException>(options.Validate).Message);
    }

    [Fact]
    public void Postgres_without_a_connection_string_is_refused_where_entities_live()
    {
        var options = new NatterOptions { Persistence = new PersistenceOptions { Provider = "postgres" } };
        Assert.Contains("ConnectionString", Assert.Throws<InvalidOperationException>(options.Validate).Message);
    }

    [Fact]
    public void A_shared_sqlite_cache_is_refused_because_journal_reads_would_see_uncommitted_events()
    {
        var options = new NatterOptions { Persistence = new PersistenceOptions { ConnectionString = "Data Source=natter.db;Cache=Shared" } };
        Assert.Contains("Cache=Shared", Assert.Throws<InvalidOperationException>(options.Validate).Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1001)]
    public void A_commit_window_below_zero_or_over_a_second_is_refused(int milliseconds)
    {
        var options = new NatterOptions { Persistence = new PersistenceOptions { CommitWindow = TimeSpan.FromMilliseconds(milliseconds) } };
        Assert.Contains("CommitWindow", Assert.Throws<InvalidOperationException>(options.Validate).Message);
    }

    [Fact]
    public void Routes_timings_of_zero_are_refused()
    {
        foreach (var chat in new[] { new ChatSettings { RoutesAnswerWithin = TimeSpan.Zero }, new ChatSettings { RoutesAskAgainAfter = TimeSpan.Zero } })
            Assert.Contains("Routes", Assert.Throws<InvalidOperationException>(new NatterOptions { Chat = chat }.Validate).Message);
    }

    [Fact]
    public void An_edge_only_process_needs_no_journal_settings()
    {
        var options = new NatterOptions { Roles = [NatterRoles.Edge], Persistence = new PersistenceOptions { Provider = "postgres" } };
        options.Validate();
        Assert.False(options.HostsEntities);
    }

    [Fact]
    public void An_unknown_role_is_refused()
    {
        var options = new NatterOptions { Roles = ["frontend"] };
        Assert.Contains("unknown role", Assert.Throws<InvalidOperationException>(options.Validate).Message);
    }
}
