using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Natter.Integration.Tests.Infrastructure;

/// <summary>
/// A local HTTP server standing in for FCM, APNs, Web Push and an email API. It records every request it accepts,
/// and checks what the providers check: FCM's bearer token (traded at its /token endpoint for a service account's
/// assertion), APNs' provider token and HTTP/2 (on a second, HTTP/2-only port), and tokens it was told are gone.
/// </summary>
public sealed class RecordingPushServer : IAsyncDisposable
{
    public sealed record Received(string Path, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset At)
    {
        /// <summary>The body as sent (an encrypted Web Push is not text).</summary>
        public byte[] Bytes { get; init; } = [];

        public string Protocol { get; init; } = "";
    }

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Received> _received = new();
    private readonly ConcurrentQueue<Received> _refused = new();
    private readonly ConcurrentDictionary<string, bool> _gone = new();
    private int _failNext;
    // Completed (and replaced) by every request recorded: waiters wake on arrival instead of polling.
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RecordingPushServer(WebApplication app) => _app = app;

    /// <summary>HTTP/1.1: FCM, its token endpoint, Web Push, email.</summary>
    public string BaseAddress { get; private set; } = "";

    /// <summary>HTTP/2 only (prior knowledge, as APNs takes nothing else): APNs.</summary>
    public string Http2Address { get; private set; } = "";

    public ProviderCredentials Credentials { get; private set; } = null!;

    /// <summary>The requests accepted (2xx), in order.</summary>
    public IReadOnlyList<Received> Requests => _received.ToList();

    /// <summary>The requests answered with an error (credentials refused, token gone).</summary>
    public IReadOnlyList<Received> Refused => _refused.ToList();

    /// <summary>The next <paramref name="count"/> requests are answered 503 (a provider outage).</summary>
    public void FailNext(int count) => Interlocked.Exchange(ref _failNext, count);

    /// <summary>
    /// Pushes to this FCM or APNs device token, or Web Push subscription path, are answered as providers answer for
    /// an uninstalled app or an expired subscription (404 UNREGISTERED, 410 Unregistered, 410 Gone).
    /// </summary>
    public void Unregister(string tokenOrPath) => _gone[tokenOrPath] = true;

    public static async Task<RecordingPushServer> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        ListenOptions? http1 = null, http2 = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, o => (o.Protocols, http1) = (HttpProtocols.Http1, o));
            kestrel.Listen(IPAddress.Loopback, 0, o => (o.Protocols, http2) = (HttpProtocols.Http2, o));
        });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new RecordingPushServer(app);
        app.MapPost("/token", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            var (status, body) = server.Credentials.Trade(form.ToDictionary(f => f.Key, f => f.Value.ToString()));
            return Results.Json(body, statusCode: status);
        });
        app.Map("/{**path}", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var bytes = buffer.ToArray();
            var received = new Received(context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                System.Text.Encoding.UTF8.GetString(bytes), DateTimeOffset.UtcNow) { Bytes = bytes, Protocol = context.Request.Protocol };
            if (Interlocked.Decrement(ref server._failNext) >= 0) return Results.StatusCode(503);
            if (server.Refusal(received) is { } refusal)
            {
                server._refused.Enqueue(received);
                return refusal;
            }
            server._received.Enqueue(received);
            Interlocked.Exchange(ref server._arrived, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            return Results.Ok(new { name = "projects/natter/messages/1" });
        });
        await app.StartAsync();
        // Kestrel puts the ports it bound into the listen options.
        (server.BaseAddress, server.Http2Address) = ($"http://{http1!.IPEndPoint}", $"http://{http2!.IPEndPoint}");
        server.Credentials = new ProviderCredentials(server.BaseAddress + "/token");
        return server;
    }

    /// <summary>What the provider would answer instead of accepting, or null.</summary>
    private IResult? Refusal(Received r)
    {
        if (r.Path.Contains("messages:send"))
        {
            if (!Credentials.FcmAuthorized(r.Headers.GetValueOrDefault("Authorization")))
                return Results.Json(new { error = new { code = 401, message = "Request had invalid authentication credentials.", status = "UNAUTHENTICATED" } },
                    statusCode: 401);
            var token = JsonDocument.Parse(r.Body).RootElement.GetProperty("message").GetProperty("token").GetString()!;
            if (_gone.ContainsKey(token))
                return Results.Json(new
                {
                    error = new
                    {
                        code = 404, message = "Requested entity was not found.", status = "NOT_FOUND",
                        details = new[] { new Dictionary<string, string> { ["@type"] = "type.googleapis.com/google.firebase.fcm.v1.FcmError", ["errorCode"] = "UNREGISTERED" } },
                    },
                }, statusCode: 404);
            return null;
        }
        if (r.Path.StartsWith("/apns/", StringComparison.Ordinal))
        {
            if (r.Protocol != "HTTP/2") return Results.Json(new { reason = "BadProtocol" }, statusCode: 400);
            if (Credentials.ApnsRefusal(r.Headers.GetValueOrDefault("Authorization")) is { } reason)
                return Results.Json(new { reason }, statusCode: 403);
            return _gone.ContainsKey(Uri.UnescapeDataString(r.Path["/apns/3/device/".Length..]))
                ? Results.Json(new { reason = "Unregistered", timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, statusCode: 410)
                : null;
        }
        return _gone.ContainsKey(r.Path) ? Results.StatusCode(410) : null;
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
        Credentials?.Dispose();
    }
}
