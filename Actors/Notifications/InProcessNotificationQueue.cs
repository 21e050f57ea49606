using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Natter.Messages.Notifications;

namespace Natter.Actors.Notifications;

/// <summary>
/// The embedded default without Kafka: a bounded in-process queue between projection and dispatcher. A full
/// queue holds the projection back. Requests still queued when the process stops are lost (the projection's
/// offset has passed them): a single-process deployment trades that for needing no Kafka.
/// </summary>
public sealed class InProcessNotificationQueue : INotificationSink, INotificationSource
{
    private readonly Channel<NotificationRequest> _queue = Channel.CreateBounded<NotificationRequest>(
        new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public async Task PublishAsync(IReadOnlyList<NotificationRequest> batch, CancellationToken ct)
    {
        foreach (var request in batch) await _queue.Writer.WriteAsync(request, ct);
    }

    public async IAsyncEnumerable<ReceivedNotification> ReadAllAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var request in _queue.Reader.ReadAllAsync(ct))
            yield return new ReceivedNotification(request, () => Task.CompletedTask);
    }
}
