using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Natter.Actors.Hosting;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>
/// The journal settings as the hosts build them (Akka.Hosting, HOCON/*.hocon, then the SQL plugin's own): a
/// later Akka.Persistence.Sql.Hosting that wrote its own defaults over them would show here first.
/// </summary>
public sealed class PersistenceWiringSpecs
{
    [Fact]
    public void The_hosts_sqlite_journal_reads_without_the_write_lock_writes_from_one_writer_and_binds_parameters()
    {
        var folder = SqliteJournalConfig.NewFolder("wiring");
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), "wiring")
            .WithNatterHocon()
            .WithNatterPersistence(new PersistenceOptions { DataDirectory = folder });
        var config = builder.Configuration.Value;

        foreach (var plugin in (string[])["akka.persistence.journal.sql", "akka.persistence.query.journal.sql", "akka.persistence.snapshot-store.sql"])
            Assert.Equal("read-uncommitted", config.GetString($"{plugin}.read-isolation-level"));
        Assert.Equal(1, config.GetInt("akka.persistence.journal.sql.parallelism"));
        Assert.Equal(10, config.GetInt("akka.persistence.journal.sql.db-round-trip-max-batch-size"));
        Assert.True(config.GetBoolean("akka.persistence.journal.sql.prefer-parameters-on-multirow-insert"));
        Assert.Equal("akka.persistence.journal.sql", config.GetString("akka.persistence.journal.sql.plugin-id"));
        AssertGroupCommit(config, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public void The_commit_window_is_the_operators_setting()
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), "wiring")
            .WithNatterHocon()
            .WithNatterPersistence(new PersistenceOptions
            {
                DataDirectory = SqliteJournalConfig.NewFolder("wiring"),
                CommitWindow = TimeSpan.FromMicroseconds(2500),
            });
        AssertGroupCommit(builder.Configuration.Value, TimeSpan.FromMicroseconds(2500));
    }

    private static void AssertGroupCommit(Akka.Configuration.Config config, TimeSpan window)
    {
        Assert.Equal(typeof(GroupCommitJournal), Type.GetType(config.GetString("akka.persistence.journal.sql.class")));
        Assert.Equal(400, config.GetInt("akka.persistence.journal.sql.batch-size"));
        Assert.Equal(window, config.GetTimeSpan("akka.persistence.journal.sql.commit-window"));
    }

    [Fact]
    public void The_hosts_postgres_journal_binds_parameters_and_keeps_the_default_isolation()
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), "wiring")
            .WithNatterHocon()
            .WithNatterPersistence(new PersistenceOptions { Provider = "postgres", ConnectionString = "Host=127.0.0.1;Database=natter" });
        var config = builder.Configuration.Value;

        Assert.True(config.GetBoolean("akka.persistence.journal.sql.prefer-parameters-on-multirow-insert"));
        Assert.Equal("unspecified", config.GetString("akka.persistence.journal.sql.read-isolation-level"));
        AssertGroupCommit(config, TimeSpan.FromMilliseconds(1));
    }
}
