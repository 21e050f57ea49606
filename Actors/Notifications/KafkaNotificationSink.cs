using System.Text.Json;
using Confluent.Kafka;
using Natter.Messages.Notifications;
using Natter.Messages.Protocol;

namespace Natter.Actors.Notifications;

/// <summary>
/// Publishes requests to the notification topic keyed by recipient, so each user's notifications keep their
/// order in one partition. Idempotent producer with acks from all replicas; a batch completes only when every
/// request in it is acknowledged, and throws otherwise (the projection retries the whole batch).
/// </summary>
public sealed class KafkaNotificationSink : INotificationSink, IDisposable
{
    private readonly IProducer<string, byte[]> _producer;
    private readonly string _topic;

    public KafkaNotificationSink(NotificationOptions options)
    {
        _topic = options.Topic;
        _producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = options.KafkaBootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            // Fail a delivery after this long so the projection retries it, rather than wait forever.
            MessageTimeoutMs = 10_000,
        }).Build();
    }

    public async Task PublishAsync(IReadOnlyList<NotificationRequest> batch, CancellationToken ct)
    {
        var deliveries = batch.Select(r => _producer.ProduceAsync(_topic, new Message<string, byte[]>
        {
            Key = r.Recipient.Value,
            Value = JsonSerializer.SerializeToUtf8Bytes(r, ProtocolJson.Options),
        }, ct));
        await Task.WhenAll(deliveries);
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
