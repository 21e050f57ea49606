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
}

/// <summary>CPU time (user + system) a process has used, from /proc (Linux; clock ticks of 1/100 s).</summary>
public static class ProcessCpu
{
    public static double Seconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name (which may contain spaces) start after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
    }
}

/// <summary>A process's RSS as it was, and again after a full garbage collection in it (<see cref="ServerGc"/>).</summary>
public sealed record Rss(double RawMb, double AfterGcMb)
{
    public static async Task<Rss> OfAsync(int processId)
    {
        var raw = ProcessMemory.RssMb(processId);
        await ServerGc.CollectAsync(processId);
        return new Rss(raw, ProcessMemory.RssMb(processId));
    }
}
