using Microsoft.Data.Sqlite;

namespace Natter.Actors.Hosting;

/// <summary>Prepares the embedded SQLite journal file: its folder, and WAL mode (readers do not block the writer).</summary>
public static class SqliteDatabase
{
    public static void Prepare(PersistenceOptions options)
    {
        var builder = new SqliteConnectionStringBuilder(options.EffectiveConnectionString);
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
}
