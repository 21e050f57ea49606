namespace Natter.Integration.Tests.Infrastructure;

/// <summary>For effects that land asynchronously (receipts on other connections, last seen): ask until they show.</summary>
public static class Eventually
{
    /// <summary>Asks <paramref name="probe"/> every 100 ms until <paramref name="done"/> holds; returns that answer.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} never happened; last answer: {value}");
            await Task.Delay(100);
        }
    }
}
