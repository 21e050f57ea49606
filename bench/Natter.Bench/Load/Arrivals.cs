using System.Diagnostics;

namespace Natter.Bench.Load;

/// <summary>Waiting for acknowledged messages to arrive at their recipients.</summary>
public static class Arrivals
{
    /// <summary>Waits until nothing is missing, or nothing arrived for 20 s; returns what is still missing.</summary>
    public static async Task<long> SettleAsync(Func<long> missing)
    {
        var last = missing();
        var lastChange = Stopwatch.StartNew();
        while (last > 0 && lastChange.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(10);
            var now = missing();
            if (now != last) lastChange.Restart();
            last = now;
        }
        return last;
    }
}
