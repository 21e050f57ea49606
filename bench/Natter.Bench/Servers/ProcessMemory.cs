namespace Natter.Bench.Servers;

/// <summary>Resident set size of a process, from /proc (Linux).</summary>
public static class ProcessMemory
{
    public static double RssMb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        return 0;
    }

    public static int Threads(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("Threads:", StringComparison.Ordinal))
                return int.Parse(line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[1]);
        return 0;
    }
}

/// <summary>CPU time (user + system) a process has used, from /proc (Linux; clock ticks of 1/100 s).</summary>
public static class ProcessCpu
{
    public static double Seconds(int pid)
    {
        var fields = StatFields(pid);
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
    }

    private static long TicksWithReapedChildren(string[] fields) =>
        long.Parse(fields[11]) + long.Parse(fields[12]) + long.Parse(fields[13]) + long.Parse(fields[14]);

    /// <summary>
    /// A process and its children: its own time, what its children that ended have used (once it reaped them), and
    /// the time of those still running. For a server that forks a process per connection (PostgreSQL).
    /// </summary>
    public static double TreeSeconds(int pid)
    {
        var ticks = TicksWithReapedChildren(StatFields(pid));
        foreach (var child in Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)))
        {
            try
            {
                var childFields = StatFields(int.Parse(child!));
                if (int.Parse(childFields[1]) != pid) continue;
                ticks += TicksWithReapedChildren(childFields);
            }
            catch (IOException) { /* it ended while we looked: its time is now its parent's */ }
        }
        return ticks / 100.0;
    }

    // Fields after the command name (which may contain spaces) start after the last ')': [1] is the parent,
    // [11] and [12] user and system time, [13] and [14] those of reaped children, in clock ticks.
    private static string[] StatFields(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }
}

/// <summary>
/// A process's RSS as it was, and again after a full garbage collection in it (<see cref="ServerGc"/>), with what
/// that collection reported (null if it could not be read) and the process's threads.
/// </summary>
public sealed record Rss(double RawMb, double AfterGcMb, ServerGc.HeapAfter? Heap, int Threads)
{
    public static async Task<Rss> OfAsync(int processId)
    {
        var raw = ProcessMemory.RssMb(processId);
        var heap = await ServerGc.CollectAsync(processId);
        return new Rss(raw, ProcessMemory.RssMb(processId), heap, ProcessMemory.Threads(processId));
    }

    /// <summary>What grew by how much per connection, between two readings, from a figure of the heap statistics;
    /// null if either reading lacks it.</summary>
    public static double? GrowthKb(IEnumerable<Rss> before, IEnumerable<Rss> after, Func<ServerGc.HeapAfter, double?> figure, int connections)
    {
        double? Sum(IEnumerable<Rss> readings) =>
            readings.Aggregate((double?)0, (sum, r) => r.Heap is { } h && figure(h) is { } v ? sum + v : null);
        return Sum(before) is { } b && Sum(after) is { } a ? (a - b) * 1024 / Math.Max(1, connections) : null;
    }
}
