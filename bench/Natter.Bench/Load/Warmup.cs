using System.Diagnostics;

namespace Natter.Bench.Load;

/// <summary>
/// Load before the measured phase, the same for every server of a run. Each server then measures warm: .NET's
/// tiered JIT (with dynamic PGO) was still recompiling hot code 30 s into a 150,000-message run, about a sixth of
/// the server's CPU, when the warm-up was only a tenth of the messages. Servers run for days.
/// </summary>
public static class Warmup
{
    public static TimeSpan For(BenchOptions options) => options.Quick ? TimeSpan.Zero : TimeSpan.FromSeconds(20);

    /// <summary>Runs <paramref name="round"/> at least once and again until <paramref name="minimum"/> has passed.</summary>
    public static async Task RunAsync(string name, TimeSpan minimum, Func<Task> round)
    {
        var watch = Stopwatch.StartNew();
        var rounds = 0;
        do
        {
            await round();
            rounds++;
        } while (watch.Elapsed < minimum);
        Console.Error.WriteLine($"{name}: warmed up with {rounds} rounds in {watch.Elapsed.TotalSeconds:F1} s");
    }
}
