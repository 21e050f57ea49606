namespace Natter.Testing;

/// <summary>Which journal a server under test uses: the embedded SQLite default or PostgreSQL.</summary>
public sealed record Journal(string Provider, string? ConnectionString)
{
    public static Journal Sqlite() => new("sqlite", null);

    public static Journal Postgres(string connectionString) => new("postgres", connectionString);

    /// <summary>Configuration keys (ASP.NET form) selecting this journal, with data under <paramref name="dataDirectory"/>.</summary>
    public Dictionary<string, string?> Settings(string dataDirectory)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Natter:Persistence:Provider"] = Provider,
            ["Natter:Persistence:DataDirectory"] = dataDirectory,
        };
        if (ConnectionString is not null) settings["Natter:Persistence:ConnectionString"] = ConnectionString;
        return settings;
    }
}
