using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Natter.Integration.Tests.Infrastructure;

/// <summary>A local HTTP server standing in for FCM, APNs, Web Push and an email API: it records every request.</summary>
public sealed class RecordingPushServer : IAsyncDisposable
{
    public sealed record Received(string Path, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset At)
    {
        /// <summary>The body as sent (an encrypted Web Push is not text).</summary>
        public byte[] Bytes { get; init; } = [];
    }

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Received> _received = new();
    private int _failNext;
    // Completed (and replaced) by every request recorded: waiters wake on arrival instead of polling.
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RecordingPushServer(WebApplication app) => _app = app;

    public string BaseAddress => _app.Urls.First();

    public IReadOnlyList<Received> Requests => _received.ToList();

    /// <summary>The next <paramref name="count"/> requests are answered 503 (a provider outage).</summary>
    public void FailNext(int count) => Interlocked.Exchange(ref _failNext, count);

    public static async Task<RecordingPushServer> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new RecordingPushServer(app);
        app.Map("/{**path}", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var bytes = buffer.ToArray();
            var body = System.Text.Encoding.UTF8.GetString(bytes);
            if (Interlocked.Decrement(ref server._failNext) >= 0) return Results.StatusCode(503);
            server._received.Enqueue(new Received(context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body,
                DateTimeOffset.UtcNow) { Bytes = bytes });
            Interlocked.Exchange(ref server._arrived, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            return Results.Ok(new { name = "projects/natter/messages/1" });
        });
        await app.StartAsync();
        return server;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests matched, then returns those that match.</summary>
    public async Task<List<Received>> WaitForAsync(Func<Received, bool> match, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            // Taken before looking, so a request recorded in between completes it.
            var arrival = Volatile.Read(ref _arrived).Task;
            var matching = Requests.Where(match).ToList();
            if (matching.Count >= count) return matching;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"{matching.Count} of {count} push requests arrived; all: {string.Join(" | ", Requests.Select(r => r.Path))}");
            await Task.WhenAny(arrival, Task.Delay(left));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
