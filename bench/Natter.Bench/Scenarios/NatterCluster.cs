using System.Security.Cryptography;
using Natter.Bench.Servers;
using Natter.Testing;

namespace Natter.Bench.Scenarios;

/// <summary>
/// A cluster as production runs it, each member its own OS process on 127.0.0.1: node-only processes that
/// host the entities (the first is the seed) and edge-only processes the clients talk to (one by default), all on one
/// PostgreSQL journal. A node can be killed outright, as a crash would, and started again on its port.
/// </summary>
public sealed class NatterCluster : IAsyncDisposable
{
    private readonly PostgresServer _postgres;
    private readonly Journal _journal;
    private readonly string _data;
    private readonly string _seed;
    private readonly int[] _remotingPorts;
    private readonly ServerProcess?[] _nodes;

    private readonly List<ServerProcess> _edges = new();

    private NatterCluster(PostgresServer postgres, Journal journal, string data, int[] remotingPorts)
    {
        _postgres = postgres;
        _journal = journal;
        _data = data;
        _remotingPorts = remotingPorts;
        _seed = SeedOf(remotingPorts[0]);
        _nodes = new ServerProcess?[remotingPorts.Length];
    }

    /// <summary>The first edge process.</summary>
    public ServerProcess Edge => _edges[0];

    public IReadOnlyList<ServerProcess> Edges => _edges;

    public IReadOnlyList<int> NodeProcessIds => _nodes.OfType<ServerProcess>().Select(n => n.ProcessId).ToList();

    /// <param name="edgeSettings">Settings for the edges over the defaults below.</param>
    public static async Task<NatterCluster> StartAsync(int nodes, int edges = 1, IDictionary<string, string?>? edgeSettings = null)
    {
        var postgres = Termination.Track(new PostgresServer());
        await postgres.StartAsync();
        var journal = Journal.Postgres(await postgres.CreateDatabaseAsync());
        var data = TempDirectory.Create("natter-cluster");
        var ports = Enumerable.Range(0, nodes).Select(_ => FreePorts.Next()).ToArray();
        Console.Error.WriteLine($"starting a cluster of {nodes} node processes and {edges} edge process(es) (postgres) in {data}");

        var cluster = new NatterCluster(postgres, journal, data, ports);
        for (var i = 0; i < nodes; i++) await cluster.StartNodeAsync(i);
        var settings = new Dictionary<string, string?>
        {
            ["Natter:Roles:0"] = "edge",
            ["Natter:SeedNodes:0"] = cluster._seed,
            // One key for all edges: a token issued by one is good at every other.
            ["Natter:Auth:SigningKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            // A load generator is a fast client on loopback: give it room before it counts as slow.
            ["Natter:Edge:OutboundQueueFrames"] = "8192",
            // Its senders send as fast as acks come back; like ejabberd's traffic shaper, the send limit is off.
            ["Natter:Edge:SendsPerSecond"] = "0",
            // Presence is re-announced every heartbeat: after a node is lost, within 5 s.
            ["Natter:Edge:HeartbeatSeconds"] = "5",
        };
        foreach (var (key, value) in edgeSettings ?? new Dictionary<string, string?>()) settings[key] = value;
        for (var i = 0; i < edges; i++)
            cluster._edges.Add(await ServerProcess.StartAsync(journal,
                Directory.CreateDirectory(Path.Combine(data, i == 0 ? "edge" : $"edge{i}")).FullName, null, settings));
        return cluster;
    }

    /// <summary>Kills node <paramref name="index"/> at once: no leaving, no handing off of its shards.</summary>
    public async Task KillNodeAsync(int index)
    {
        if (_nodes[index] is { } node)
        {
            await node.DisposeAsync();
            _killedLogs.Add((index, node.Log.ToList()));
        }
        _nodes[index] = null;
    }

    /// <summary>Starts node <paramref name="index"/> (again) on its remoting port; it joins through the seed.</summary>
    public async Task StartNodeAsync(int index) =>
        _nodes[index] = await ServerProcess.StartAsync(_journal, Directory.CreateDirectory(Path.Combine(_data, $"node{index}")).FullName, null,
            new Dictionary<string, string?>
            {
                ["Natter:Roles:0"] = "node",
                ["Natter:Remoting:Port"] = _remotingPorts[index].ToString(),
                ["Natter:SeedNodes:0"] = _seed,
            }, program: "Natter.Cluster.Node.dll");

    /// <summary>Writes every process's log (warnings and errors) into <paramref name="folder"/>, for reading a failure afterwards.</summary>
    public void SaveLogs(string folder)
    {
        Directory.CreateDirectory(folder);
        for (var i = 0; i < _edges.Count; i++) File.WriteAllLines(Path.Combine(folder, i == 0 ? "edge.log" : $"edge{i}.log"), _edges[i].Log);
        for (var i = 0; i < _nodes.Length; i++)
            if (_nodes[i] is { } node) File.WriteAllLines(Path.Combine(folder, $"node{i}.log"), node.Log);
        foreach (var (index, lines) in _killedLogs) File.WriteAllLines(Path.Combine(folder, $"node{index}-killed.log"), lines);
    }

    private readonly List<(int Index, List<string> Lines)> _killedLogs = new();

    private static string SeedOf(int port) => $"akka.tcp://natter@127.0.0.1:{port}";

    public async ValueTask DisposeAsync()
    {
        foreach (var edge in _edges) await edge.DisposeAsync();
        foreach (var node in _nodes.OfType<ServerProcess>()) await node.DisposeAsync();
        Termination.Untrack(_postgres);
        await _postgres.DisposeAsync();
        TempDirectory.Delete(_data);
    }
}
