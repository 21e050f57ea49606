namespace Natter.Testing;

/// <summary>
/// Waits for a server a test or the harness started to answer GET /health/ready. A process that has not
/// bound its port yet sends no event to wait on, so this polls, in this one place.
/// </summary>
public static class Readiness
{
    /// <param name="failure">Checked on every poll: a reason to stop waiting (the process exited), or null.</param>
    public static async Task WaitAsync(HttpClient http, Uri baseAddress, TimeSpan limit, Func<string?>? failure = null)
    {
        var deadline = DateTime.UtcNow + limit;
        var ready = new Uri(baseAddress, "health/ready");
        while (DateTime.UtcNow < deadline)
        {
            if (failure?.Invoke() is { } reason) throw new InvalidOperationException(reason);
            try
            {
                if ((await http.GetAsync(ready)).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { /* not listening yet: poll again */ }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{baseAddress} did not become ready in {limit.TotalSeconds:F0} s");
    }
}
