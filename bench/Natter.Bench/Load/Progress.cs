namespace Natter.Bench.Load;

/// <summary>Prints a progress line periodically while a long phase runs.</summary>
public sealed class Progress : IDisposable
{
    private readonly Timer _timer;

    private Progress(TimeSpan period, Func<string> line) =>
        _timer = new Timer(_ => Console.Error.WriteLine(line()), null, period, period);

    public static Progress Every(TimeSpan period, Func<string> line) => new(period, line);

    public void Dispose() => _timer.Dispose();
}
