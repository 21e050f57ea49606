using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Persistence.Sql;
using LinqToDB;
using Natter.Actors.Hosting;
using Natter.Testing;

namespace Natter.Actors.Tests;

/// <summary>
/// A real Akka.Persistence.Sql journal and snapshot store on a fresh SQLite file in WAL mode, with Natter's
/// serializer and the hosts' journal settings (HOCON/journal.hocon and SQLite's own).
/// </summary>
public static class SqliteJournalConfig
{
    /// <param name="overrides">HOCON over the hosts' settings, for specs of the journal itself.</param>
    public static ActorSystemSetup For(string databaseFile, string overrides = "")
    {
        var connection = $"Data Source={databaseFile}";
        SqliteDatabase.Prepare(connection);
        var config = ConfigurationFactory.ParseString(overrides).WithFallback(ConfigFor(databaseFile));
        return BootstrapSetup.Create().WithConfig(config).And(SqliteDatabase.ConnectionSetup(connection));
    }

    private static Config ConfigFor(string databaseFile)
    {
        var connection = $"Data Source={databaseFile}";
        var provider = ProviderName.SQLiteMS;
        return ConfigurationFactory.ParseString($$"""
            akka.loglevel = INFO
            # Default expectation timeouts x3: journal writes on a loaded 2-core CI machine.
            akka.test.timefactor = 3
            akka.actor {
              serializers.natter = "Natter.Actors.Serialization.NatterSerializer, Natter.Actors"
              serialization-bindings { "Natter.Messages.INatterMessage, Natter.Messages" = natter }
              serialization-identifiers { "Natter.Actors.Serialization.NatterSerializer, Natter.Actors" = 7210 }
            }
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                # The hosts' default commit window (PersistenceOptions.CommitWindow).
                sql { connection-string = "{{connection}}", provider-name = "{{provider}}", auto-initialize = on, commit-window = 1ms }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql { connection-string = "{{connection}}", provider-name = "{{provider}}", auto-initialize = on }
              }
              query.journal.sql { connection-string = "{{connection}}", provider-name = "{{provider}}" }
            }
            """)
            .WithFallback(ConfigurationFactory.ParseString(SqliteDatabase.PersistenceSettings))
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "HOCON", "journal.hocon"))))
            .WithFallback(SqlPersistence.DefaultConfiguration);
    }

    public static string NewDatabaseFile() => Path.Combine(RunFolder.Value, $"{Guid.NewGuid():N}.db");

    /// <summary>A new folder path (not created) for one spec's data, removed with the others when the run ends.</summary>
    public static string NewFolder(string prefix) => Path.Combine(RunFolder.Value, $"{prefix}-{Guid.NewGuid():N}");

    // One folder per test process, removed when it exits: the specs' databases are thousands of files a run.
    private static readonly Lazy<string> RunFolder = new(() =>
    {
        var folder = TempDirectory.Create("actor-specs");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TempDirectory.Delete(folder);
        return folder;
    });
}
