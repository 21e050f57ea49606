using System.Data.Common;
using Akka.Persistence.Sql.Config;
using LinqToDB;
using Microsoft.Data.Sqlite;

namespace Natter.Actors.Hosting;

/// <summary>The embedded SQLite journal: its file, WAL mode, and the journal settings it needs.</summary>
public static class SqliteDatabase
{
    /// <summary>
    /// Akka.Persistence.Sql settings for SQLite, used by the hosts and by the specs alike.
    /// <list type="bullet">
    /// <item>One writer: SQLite has one write lock, so concurrent write transactions only queue on it.</item>
    /// <item>Reads begin a deferred transaction ("BEGIN"). The plugin opens every read (recovery, the
    /// notification projection's queries) with the configured isolation level, and Microsoft.Data.Sqlite
    /// turns the default into "BEGIN IMMEDIATE", which takes the write lock: each read then stalled the
    /// journal's writer, which waits out a busy lock in 150 ms sleeps (the SQLite p99 of 190-350 ms in
    /// docs/benchmarks.md). "read-uncommitted" is the only level it begins deferred; it reads dirty rows
    /// only with a shared cache, which <see cref="RefuseSharedCache"/> rules out, so in WAL mode a read
    /// sees the last commit as usual.</item>
    /// <item>At most 10 rows per INSERT statement (a transaction of more rows runs several). Microsoft.Data.Sqlite
    /// binds each parameter by name, and SQLite finds a name by comparing it with every name before it, so
    /// one statement of 100 rows (900 parameters) made about 400,000 string comparisons: 12.8% of the server's
    /// CPU in `direct` once the commit window filled transactions (1.6% with 10 rows per statement).</item>
    /// </list>
    /// </summary>
    public const string PersistenceSettings = """
        akka.persistence.journal.sql.parallelism = 1
        akka.persistence.journal.sql.db-round-trip-max-batch-size = 10
        akka.persistence.journal.sql.read-isolation-level = read-uncommitted
        akka.persistence.query.journal.sql.read-isolation-level = read-uncommitted
        akka.persistence.snapshot-store.sql.read-isolation-level = read-uncommitted
        """;

    /// <summary>The Akka.Persistence.Sql plugins Natter uses, by their `plugin-id`.</summary>
    public static readonly IReadOnlyList<string> PluginIds =
        ["akka.persistence.journal.sql", "akka.persistence.query.journal.sql", "akka.persistence.snapshot-store.sql"];

    /// <summary>How long a connection waits inside SQLite for another connection's write lock.</summary>
    public const int BusyTimeoutMilliseconds = 5000;

    /// <summary>
    /// Connection options for the journal, its query side and the snapshot store: each connection they open
    /// sets two pragmas.
    /// <list type="bullet">
    /// <item>SQLite's busy timeout. The journal's single writer still meets other writers (snapshots,
    /// deletions); without the timeout SQLite reports the lock busy at once and Microsoft.Data.Sqlite
    /// retries in 150 ms sleeps, so a snapshot taken while the journal commits stalled every chat for
    /// 150 ms or more. SQLite's own wait polls in steps of 1 to 100 ms.</item>
    /// <item>Temporary storage in memory. A transaction of several INSERT statements keeps a statement
    /// journal (the pages each statement changes, to undo that statement alone), by default in a new file
    /// under /var/tmp per statement: about 4,000 page writes a second in `direct`, a third of the journal's
    /// writes. It never needs to survive a crash (the WAL does), so memory is as safe.</item>
    /// </list>
    /// </summary>
    public static MultiDataOptionsSetup ConnectionSetup(string connectionString)
    {
        var options = new DataOptions()
            .UseConnectionString(ProviderName.SQLiteMS, connectionString)
            .UseAfterConnectionOpened(SetPragmas, SetPragmasAsync);
        var setup = new MultiDataOptionsSetup();
        foreach (var pluginId in PluginIds) setup.AddDataOptions(pluginId, options);
        return setup;
    }

    private static readonly string Pragmas = $"PRAGMA busy_timeout = {BusyTimeoutMilliseconds}; PRAGMA temp_store = MEMORY;";

    private static void SetPragmas(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    private static async Task SetPragmasAsync(DbConnection connection, CancellationToken token)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(token);
    }

    public static void Prepare(PersistenceOptions options) => Prepare(options.EffectiveConnectionString);

    public static void Prepare(string connectionString)
    {
        RefuseSharedCache(connectionString);
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.DataSource is "" or ":memory:" || builder.Mode == SqliteOpenMode.Memory) return;
        var folder = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (folder is not null) Directory.CreateDirectory(folder);

        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        // WAL persists in the file. synchronous stays FULL (the default): a commit is on disk before the ack.
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }

    /// <summary>With a shared cache, the deferred reads of <see cref="PersistenceSettings"/> would see uncommitted rows.</summary>
    public static void RefuseSharedCache(string connectionString)
    {
        if (new SqliteConnectionStringBuilder(connectionString).Cache == SqliteCacheMode.Shared)
            throw new InvalidOperationException(
                "Natter:Persistence:ConnectionString: Cache=Shared is not supported with SQLite (reads would see uncommitted events)");
    }
}
