using Akka.Actor;
using Akka.Event;
using Natter.Messages;

namespace Natter.Actors.Connections;

/// <summary>
/// How many pages of messages a connection fetches at once. A page is at most a quarter of the client's outbound
/// queue, and a page is asked for only if it fits, with every page already asked for, into three quarters of the
/// queue: the rest stays free for acks, receipts, live messages and the "synced" frame. So a sync of many chats
/// with many unread messages each fetches a few chats at a time as the client reads, instead of all at once
/// (which overflowed the queue and closed the connection with 4008 before it was read).
/// </summary>
public sealed partial class ConnectionActor
{
    private sealed class PumpSyncFetches : IDeadLetterSuppression
    {
        public static readonly PumpSyncFetches Instance = new();
    }

    private static readonly TimeSpan PagePumpDelay = TimeSpan.FromMilliseconds(10);

    private int _pagesInFlight;
    private Queue<ChatId>? _syncFetchQueue;
    private bool _syncPumpScheduled;

    private int PageLimit => Math.Min(_settings.SyncPageSize, Math.Max(1, _outbound.Capacity / 4));

    private bool NextPageFits => _outbound.Pending + (_pagesInFlight + 1) * PageLimit <= _outbound.Capacity * 3 / 4;

    /// <summary>Queues a chat of a sync; the caller has marked its stream as fetching.</summary>
    private void QueueSyncFetch(ChatId chatId) => (_syncFetchQueue ??= new Queue<ChatId>()).Enqueue(chatId);

    /// <summary>Starts the sync's queued fetches that fit; tries again shortly while the client is reading.</summary>
    private void PumpSyncFetchQueue()
    {
        while (_syncFetchQueue is { Count: > 0 } queue && !_closing)
        {
            // The first page of a sync always goes, so a queue smaller than a page cannot stall it.
            if ((!NextPageFits && _pagesInFlight > 0) || _outbound.Pending > _outbound.Capacity / 2)
            {
                ScheduleSyncPump();
                return;
            }
            var chatId = queue.Dequeue();
            Fetch(chatId, StreamOf(chatId));
        }
        if (_syncFetchQueue is { Count: 0 }) _syncFetchQueue = null;
    }

    private void ScheduleSyncPump()
    {
        if (_syncPumpScheduled) return;
        _syncPumpScheduled = true;
        Context.System.Scheduler.ScheduleTellOnce(PagePumpDelay, Self, PumpSyncFetches.Instance, Self);
    }

    private void OnPumpSyncFetches()
    {
        _syncPumpScheduled = false;
        PumpSyncFetchQueue();
    }
}
