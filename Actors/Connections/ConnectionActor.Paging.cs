using Akka.Actor;
using Akka.Event;
using Natter.Messages;

namespace Natter.Actors.Connections;

/// <summary>
/// How many messages a connection asks its chats for at once. A page is at most a quarter of the client's outbound
/// queue, and a page is asked for only if it fits, with every page already asked for, into three quarters of the
/// queue: the rest stays free for acks, receipts, live messages and the "synced" frame. A sync asks each chat for a
/// small first page (a sixteenth of the queue), so many chats, most with nothing unread, are asked at once; a chat
/// with more goes on with full pages as the client reads. Before, a sync asked every chat for a full page at once,
/// and a user with several busy chats overflowed the queue and was disconnected with 4008.
/// </summary>
public sealed partial class ConnectionActor
{
    private sealed class PumpSyncFetches : IDeadLetterSuppression
    {
        public static readonly PumpSyncFetches Instance = new();
    }

    private static readonly TimeSpan PagePumpDelay = TimeSpan.FromMilliseconds(10);

    private int _framesInFlight;
    private Queue<ChatId>? _syncFetchQueue;
    private bool _syncPumpScheduled;

    private int PageLimit => Math.Min(_settings.SyncPageSize, Math.Max(1, _outbound.Capacity / 4));

    private int SyncFirstPageLimit => Math.Max(1, PageLimit / 4);

    private bool PageFits(int limit) => _outbound.Pending + _framesInFlight + limit <= _outbound.Capacity * 3 / 4;

    /// <summary>Queues a chat of a sync; the caller has marked its stream as fetching.</summary>
    private void QueueSyncFetch(ChatId chatId) => (_syncFetchQueue ??= new Queue<ChatId>()).Enqueue(chatId);

    /// <summary>Starts the sync's queued fetches that fit; tries again shortly while the client is reading.</summary>
    private void PumpSyncFetchQueue()
    {
        while (_syncFetchQueue is { Count: > 0 } queue && !_closing)
        {
            // With nothing in flight a page always goes, so a queue smaller than a page cannot stall the sync.
            if ((!PageFits(SyncFirstPageLimit) && _framesInFlight > 0) || _outbound.Pending > _outbound.Capacity / 2)
            {
                ScheduleSyncPump();
                return;
            }
            var chatId = queue.Dequeue();
            Fetch(chatId, StreamOf(chatId), SyncFirstPageLimit);
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
