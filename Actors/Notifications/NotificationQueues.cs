using Natter.Messages.Notifications;

namespace Natter.Actors.Notifications;

/// <summary>Where the projection publishes requests. Completes only once they are safely handed over (Kafka acked).</summary>
public interface INotificationSink
{
    Task PublishAsync(IReadOnlyList<NotificationRequest> batch, CancellationToken ct);
}

/// <summary>A request read by the dispatcher, with how to mark it handled (commit its offset).</summary>
public sealed record ReceivedNotification(NotificationRequest Request, Func<Task> CommitAsync);

/// <summary>Where the dispatcher reads requests from.</summary>
public interface INotificationSource
{
    IAsyncEnumerable<ReceivedNotification> ReadAllAsync(CancellationToken ct);
}
