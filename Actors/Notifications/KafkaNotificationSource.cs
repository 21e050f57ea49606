using System.Runtime.CompilerServices;
using System.Text.Json;
using Confluent.Kafka;
using Natter.Messages.Notifications;
using Natter.Messages.Protocol;

namespace Natter.Actors.Notifications;

/// <summary>
/// The dispatcher's side of the topic: a consumer in the dispatch group, committing each offset only once its
/// notification was handed off. Offsets are committed in order per partition, so a crash re-reads at most
/// the requests not yet handed off (the dispatcher dedupes by request id).
/// </summary>
public sealed class KafkaNotificationSource(NotificationOptions options) : INotificationSource
{
    public async IAsyncEnumerable<ReceivedNotification> ReadAllAsync([EnumeratorCancellation] CancellationToken ct)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = options.KafkaBootstrapServers,
            GroupId = options.ConsumerGroup,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(options.Topic);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                // Consume blocks its thread; hand it to the pool so the host's threads stay free.
                var result = await Task.Run(() => consumer.Consume(TimeSpan.FromMilliseconds(250)), ct);
                if (result?.Message is null) continue;
                NotificationRequest? request = null;
                try { request = JsonSerializer.Deserialize<NotificationRequest>(result.Message.Value, ProtocolJson.Options); }
                catch (JsonException) { /* a foreign record on the topic: skip it, committed below */ }
                if (request is null)
                {
                    consumer.Commit(result);
                    continue;
                }
                yield return new ReceivedNotification(request, () =>
                {
                    consumer.Commit(result);
                    return Task.CompletedTask;
                });
            }
        }
        finally
        {
            consumer.Close();
        }
    }
}
