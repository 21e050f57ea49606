namespace Natter.Bench.Load;

/// <summary>
/// A child process of the harness that opens one connection for each access token in a file, to one edge, and
/// holds them (each client pings every heartbeat period the server asks for) until its standard input closes.
/// One process may hold at most 20,000 open files here, so `connections --edges N` spreads the clients over N
/// of these. It reports on standard output: `opened N failed F` once all are open, `pongs P` at the end.
/// </summary>
public static class ConnectionHolder
{
    public const string Command = "hold-connections";

    public static async Task<int> RunAsync(Uri edge, string tokensFile)
    {
        var idle = new IdleConnections();
        var open = await idle.OpenAsync(edge, await File.ReadAllLinesAsync(tokensFile), new LocalAddresses(8));
        Console.WriteLine($"opened {open.Count} failed {idle.Failed}");
        // Held until the harness closes our standard input.
        await Console.In.ReadToEndAsync();
        Console.WriteLine($"pongs {idle.Pongs}");
        GC.KeepAlive(open);
        return 0;
    }
}
