using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Natter.Testing;

/// <summary>
/// A real PostgreSQL server on 127.0.0.1, started from the machine's PostgreSQL binaries (initdb + pg_ctl, as the
/// postgres user when running as root; test.sh installs them) and stopped when disposed; or, when NATTER_TEST_POSTGRES
/// holds a connection string, that server. Each user gets its own database.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private string? _dataDirectory;
    private string? _socketDirectory;
    private string? _pgCtl;

    public string AdminConnectionString { get; private set; } = "";

    public async Task StartAsync()
    {
        var external = Environment.GetEnvironmentVariable("NATTER_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(external))
        {
            AdminConnectionString = external;
            return;
        }

        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin"))
                      .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
                  ?? throw new InvalidOperationException("PostgreSQL is not installed: run ./test.sh, which installs it");
        _pgCtl = Path.Combine(bin, "pg_ctl");
        _dataDirectory = TempDirectory.Create("pg");
        var socketDirectory = _socketDirectory = TempDirectory.Create("pgsock");
        var port = FreePorts.Next();
        if (Environment.UserName == "root")
            await Run("chown", $"-R postgres:postgres {_dataDirectory} {socketDirectory}");
        await RunAsPostgres(Path.Combine(bin, "initdb"), $"-D {_dataDirectory} -U postgres --auth=trust -E UTF8");
        await RunAsPostgres(_pgCtl, $"-D {_dataDirectory} -l {_dataDirectory}/server.log -w -o \"-p {port} -k {socketDirectory} -c listen_addresses=127.0.0.1 -c fsync=on\" start");
        AdminConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
    }

    /// <summary>The postmaster of a server this instance started (its first line of postmaster.pid); null for an external one.</summary>
    public int? ServerProcessId =>
        _dataDirectory is not null && File.Exists(Path.Combine(_dataDirectory, "postmaster.pid"))
            ? int.Parse(File.ReadLines(Path.Combine(_dataDirectory, "postmaster.pid")).First())
            : null;

    /// <summary>A new, empty database on this server, for one test class.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"natter_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataDirectory is null || _pgCtl is null) return;
        await RunAsPostgres(_pgCtl, $"-D {_dataDirectory} -m fast -w stop");
        TempDirectory.Delete(_dataDirectory);
        if (_socketDirectory is not null) TempDirectory.Delete(_socketDirectory);
    }


    private static Task RunAsPostgres(string program, string arguments) =>
        Environment.UserName == "root" ? Run("runuser", $"-u postgres -- {program} {arguments}") : Run(program, arguments);

    private static async Task Run(string program, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {arguments} failed ({process.ExitCode}): {await output} {await error}");
    }
}
