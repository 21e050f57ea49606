using Natter.Bench.Servers;
using Natter.Testing;

namespace Natter.Bench.Scenarios;

/// <summary>Starts the Natter edge (both roles) as a child process on the journal the run asks for.</summary>
public sealed class NatterServer : IAsyncDisposable
{
    private readonly PostgresServer? _postgres;

    private NatterServer(ServerProcess process, PostgresServer? postgres, string dataDirectory, Journal journal)
    {
        Process = process;
        _postgres = postgres;
        DataDirectory = dataDirectory;
        Journal = journal;
    }

    public ServerProcess Process { get; private set; }
    public string DataDirectory { get; }
    public Journal Journal { get; }

    /// <summary>PostgreSQL's postmaster when the run's journal is PostgreSQL, else null.</summary>
    public int? DatabaseProcessId => _postgres?.ServerProcessId;

    public static async Task<NatterServer> StartAsync(BenchOptions options, IDictionary<string, string?>? settings = null)
    {
        PostgresServer? postgres = null;
        Journal journal;
        if (options.Journal == "postgres")
        {
            postgres = Termination.Track(new PostgresServer());
            await postgres.StartAsync();
            journal = Journal.Postgres(await postgres.CreateDatabaseAsync());
        }
        else
        {
            journal = Journal.Sqlite();
        }
        var data = TempDirectory.Create("natter-bench");
        Console.Error.WriteLine($"starting natter ({options.Journal}) in {data}");
        var process = await ServerProcess.StartAsync(journal, data, options.Port, Defaults(settings));
        return new NatterServer(process, postgres, data, journal);
    }

    /// <summary>Stops the server (killing it, as a crash would) and starts it again on the same data.</summary>
    public async Task RestartAsync(IDictionary<string, string?>? settings = null)
    {
        await Process.DisposeAsync();
        Process = await ServerProcess.StartAsync(Journal, DataDirectory, null, Defaults(settings));
    }

    private static Dictionary<string, string?> Defaults(IDictionary<string, string?>? settings)
    {
        var all = new Dictionary<string, string?>
        {
            // A load generator is a fast client on loopback: give it room before it counts as slow.
            ["Natter:Edge:OutboundQueueFrames"] = "8192",
            // Its senders send as fast as acks come back; like ejabberd's traffic shaper, the send limit is off.
            ["Natter:Edge:SendsPerSecond"] = "0",
            // One member of `group` opens a direct chat with each of 1,023 others before the run, over REST.
            ["Natter:Edge:RequestsPerSecond"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        return all;
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        TempDirectory.Delete(DataDirectory);
        if (_postgres is not null)
        {
            Termination.Untrack(_postgres);
            await _postgres.DisposeAsync();
        }
    }
}
