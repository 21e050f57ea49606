using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Natter.Actors.Hosting;
using Natter.Actors.Presence;
using Natter.Actors.Users;
using Natter.Messages;
using Natter.Messages.Notifications;
using Natter.Messages.Users;

namespace Natter.Actors.Notifications;

/// <summary>
/// Reads notification requests (Kafka consumer group, or the in-process queue) and hands each to the push
/// adapters of the recipient's devices, unless: the request was seen before (dedupe by id), the user turned
/// notifications off or muted the chat, the user is online again (their device syncs instead), or a
/// notification for the same chat went out within the collapse window (the burst is counted into the next
/// one). The offset is committed only after the hand-off.
/// </summary>
public sealed class NotificationDispatcher(
    INotificationSource source,
    IEnumerable<IPushAdapter> adapters,
    NotificationOptions options,
    IRequiredActor<UserRegion> users,
    IRequiredActor<PresenceRegion> presence,
    TimeProvider clock,
    ILogger<NotificationDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private const int RememberedIds = 100_000;

    // A host that registered its own adapter for a platform keeps it (its services come before the built-in ones,
    // as with the verification-code sender).
    private readonly Dictionary<string, IPushAdapter> _adapters = adapters.GroupBy(a => a.Platform).ToDictionary(g => g.Key, g => g.First());
    private readonly HashSet<string> _seen = new();
    private readonly Queue<string> _seenOrder = new();
    private readonly Dictionary<(UserId, ChatId), (DateTimeOffset SentAt, int Held)> _recent = new();


    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var missing = UserState.PushPlatforms.Except(_adapters.Keys).ToList();
        if (missing.Count > 0)
            logger.LogWarning("No push notifications by {Missing}: not configured (docs/operations.md, Natter:Notifications:Push); devices registered for them are not notified",
                string.Join(", ", missing));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var received in source.ReadAllAsync(stoppingToken))
                {
                    await HandleAsync(received.Request, stoppingToken);
                    await received.CommitAsync();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The source failed (Kafka unreachable, a rebalance error): uncommitted requests come again.
                logger.LogWarning(e, "Notification source failed; reading again shortly");
                await Task.Delay(options.MaxBackoff, stoppingToken);
            }
        }
    }

    private async Task HandleAsync(NotificationRequest request, CancellationToken ct)
    {
        // Remembered only once handled: a request whose handling failed is handled again when it comes again.
        if (_seen.Contains(request.Id))
        {
            Outcome(request, "duplicate");
            return;
        }
        await HandleNewAsync(request, ct);
        Remember(request.Id);
    }

    private async Task HandleNewAsync(NotificationRequest request, CancellationToken ct)
    {
        var profile = await RetryAsync(() => users.ActorRef.Ask<UserReplies.Profile>(new UserQueries.GetProfile(request.Recipient), AskTimeout), ct);
        var now = clock.GetUtcNow();
        if (!profile.Settings.Notifications) { Outcome(request, "disabled"); return; }
        if (profile.Muted.Any(m => m.ChatId == request.ChatId && (m.Until is null || m.Until > now))) { Outcome(request, "muted"); return; }
        var status = await RetryAsync(() => presence.ActorRef.Ask<PresenceCommands.PresenceStatus>(new PresenceCommands.GetPresence(request.Recipient), AskTimeout), ct);
        if (status.OnlineDevices.Count > 0) { Outcome(request, "online"); return; }

        var key = (request.Recipient, request.ChatId);
        if (_recent.TryGetValue(key, out var recent) && now - recent.SentAt < options.CollapseWindow)
        {
            _recent[key] = recent with { Held = recent.Held + 1 };
            Outcome(request, "collapsed");
            return;
        }
        _recent[key] = (now, 0);
        if (_recent.Count > RememberedIds) Prune(now);

        var notification = new PushNotification(request.Id, request.ChatId.Value, request.Seq, request.Sender.Value,
            1 + (recent.SentAt != default ? recent.Held : 0), profile.Settings.NotificationPreview);
        foreach (var registration in profile.Push)
        {
            if (!_adapters.TryGetValue(registration.Platform, out var adapter)) continue;
            Outcome(request, await SendWithRetriesAsync(adapter, request.Recipient, registration, notification, ct));
        }
    }

    private async Task<string> SendWithRetriesAsync(IPushAdapter adapter, UserId recipient, PushRegistration registration, PushNotification n,
        CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await adapter.SendAsync(registration, n, ct);
                return "dispatched";
            }
            catch (PushRegistrationGoneException gone)
            {
                // Only that token: a device that registered anew since keeps its new one.
                try
                {
                    var after = await users.ActorRef.Ask<UserReplies.Profile>(new UserCommands.UnregisterPush(recipient, registration.Device, registration.Token), AskTimeout, ct);
                    if (after.Push.All(p => p.Device != registration.Device))
                        logger.LogInformation("Removed device {Device}'s {Platform} registration: {Reason}", registration.Device, adapter.Platform, gone.Reason);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    // The next push to it finds it gone again.
                    logger.LogWarning("Device {Device}'s gone {Platform} registration was not removed: {Error}", registration.Device, adapter.Platform, e.Message);
                }
                return "gone";
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // Worth another try: no answer, a timeout, "too many requests", or the provider's 5xx. Another 4xx (a bad
                // or expired token), a registration refused here, or anything unexpected will not get better, and must not
                // hold up everyone else's pushes (an exception that left this method would bring the same request back
                // from Kafka forever).
                var transient = e is OperationCanceledException
                    or HttpRequestException { StatusCode: null or System.Net.HttpStatusCode.RequestTimeout or System.Net.HttpStatusCode.TooManyRequests }
                    or HttpRequestException { StatusCode: >= System.Net.HttpStatusCode.InternalServerError };
                if (attempt >= options.DeliveryAttempts || !transient)
                {
                    // The stack only where it says something: a provider's refusal or timeout does not need one.
                    logger.LogError(e is HttpRequestException or OperationCanceledException or InvalidOperationException ? null : e,
                        "Giving up {Platform} notification {Id} for device {Device} after {Attempts} attempts: {Error}",
                        adapter.Platform, n.Id, registration.Device, attempt, e.Message);
                    return "failed";
                }
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxBackoff.Ticks));
            }
        }
    }

    private async Task<T> RetryAsync<T>(Func<Task<T>> ask, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try { return await ask(); }
            catch (AskTimeoutException)
            {
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxBackoff.Ticks));
            }
        }
    }

    private void Remember(string id)
    {
        if (!_seen.Add(id)) return;
        _seenOrder.Enqueue(id);
        if (_seenOrder.Count > RememberedIds) _seen.Remove(_seenOrder.Dequeue());
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, value) in _recent.Where(kv => now - kv.Value.SentAt >= options.CollapseWindow).ToList())
            _recent.Remove(key);
    }

    private void Outcome(NotificationRequest request, string outcome) =>
        logger.LogDebug("Notification {Id}: {Outcome}", request.Id, outcome);
}
