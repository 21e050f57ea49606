using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Confluent.Kafka;
using Natter.Messages.Notifications;
using Natter.Messages.Protocol;

namespace Natter.Actors.Notifications;

/// <summary>
/// The dispatcher's side of the topic: a consumer in the dispatch group. A record's offset is stored only
/// once its notification was handed off, and librdkafka commits stored offsets in the background (and on
/// close). The dispatcher hands off in order, so a crash re-reads at most the requests not yet handed off
/// (it dedupes by request id).
/// </summary>
public sealed class KafkaNotificationSource(NotificationOptions options) : INotificationSource
{
    // Records read ahead of the dispatcher; the poller waits when it is this far ahead.
    private const int ReadAhead = 256;

    public async IAsyncEnumerable<ReceivedNotification> ReadAllAsync([EnumeratorCancellation] CancellationToken ct)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = options.KafkaBootstrapServers,
            GroupId = options.ConsumerGroup,
            EnableAutoCommit = true,
            EnableAutoOffsetStore = false,
            AutoCommitIntervalMs = 1000,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(options.Topic);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var records = Channel.CreateBounded<ConsumeResult<string, byte[]>>(
            new BoundedChannelOptions(ReadAhead) { SingleReader = true, SingleWriter = true });
        // Consume blocks its thread for up to the poll interval, again and again: it gets a thread of its
        // own, never one of the pool's (a few blocked pool threads stall every actor and socket of the process).
        var poller = Task.Factory.StartNew(() => Poll(consumer, records.Writer, stop.Token), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await foreach (var result in records.Reader.ReadAllAsync(ct))
            {
                NotificationRequest? request = null;
                try { request = JsonSerializer.Deserialize<NotificationRequest>(result.Message.Value, ProtocolJson.Options); }
                catch (JsonException) { /* a foreign record on the topic: skip it, its offset stored below */ }
                if (request is null)
                {
                    Store(consumer, result);
                    continue;
                }
                yield return new ReceivedNotification(request, () =>
                {
                    Store(consumer, result);
                    return Task.CompletedTask;
                });
            }
        }
        finally
        {
            await stop.CancelAsync();
            // The poller must be done with the consumer before it is closed (Close commits what was stored).
            await poller.ContinueWith(_ => { }, TaskScheduler.Default);
            consumer.Close();
        }
    }

    private static void Poll(IConsumer<string, byte[]> consumer, ChannelWriter<ConsumeResult<string, byte[]>> records, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(250));
                if (result?.Message is null) continue;
                while (!records.TryWrite(result))
                    if (!records.WaitToWriteAsync(stop).AsTask().GetAwaiter().GetResult()) return;
            }
            records.TryComplete();
        }
        catch (OperationCanceledException)
        {
            records.TryComplete();
        }
        catch (Exception e)
        {
            // Surfaces on the reader: the dispatcher logs it and reads again with a new consumer.
            records.TryComplete(e);
        }
    }

    private static void Store(IConsumer<string, byte[]> consumer, ConsumeResult<string, byte[]> result)
    {
        try
        {
            consumer.StoreOffset(result);
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_State)
        {
            // The partition was revoked in a rebalance: its new owner reads this record again. Its dedupe is
            // in its own process's memory, so a record handed off here may be pushed twice.
        }
    }
}
