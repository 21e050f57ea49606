using Akka.Actor;
using Akka.Event;
using Natter.Messages;

namespace Natter.Actors.Connections;

/// <summary>
/// How many messages a connection asks its chats for at once. A page is at most a quarter of the client's outbound
/// queue, and a page is asked for only if it fits, with every page already asked for, into three quarters of the
/// queue: the rest stays free for acks, receipts, live messages and the "synced" frame. A page's reservation includes
/// the receipts a chat's last page replays. A sync asks each chat for a small first page (a quarter of a page: 50
/// messages by default), so many chats, most with nothing unread, are asked at once; a chat with more goes on with
/// full pages as the client reads. Before, a sync asked every chat for a full page at once,
/// and a user with several busy chats overflowed the queue and was disconnected with 4008.
/// </summary>
public sealed partial class ConnectionActor
{
    private sealed class PumpFetches : IDeadLetterSuppression
    {
        public static readonly PumpFetches Instance = new();
    }

    private static readonly TimeSpan PagePumpDelay = TimeSpan.FromMilliseconds(10);

    private int _framesInFlight;
    private Queue<ChatId>? _syncFetchQueue;
    private Queue<ChatId>? _budgetQueue;
    private bool _pumpScheduled;

    private int PageLimit => Math.Min(_settings.SyncPageSize, Math.Max(1, _outbound.Capacity / 4));

    private int SyncFirstPageLimit => Math.Max(1, PageLimit / 4);

    // Besides its messages, a chat's last page replays the members' receipts: two frames for a direct chat.
    private const int ReplayFramesPerPage = 3;

    /// <summary>Counts a page's frames as asked for; returns what <see cref="Release"/> takes back with its result.</summary>
    private int Reserve(int pageLimit)
    {
        var reserved = pageLimit + ReplayFramesPerPage;
        _framesInFlight += reserved;
        return reserved;
    }

    // Never below zero: an answer to a fetch of the actor's previous incarnation (before a restart) counts for nothing.
    private void Release(int reserved) => _framesInFlight = Math.Max(0, _framesInFlight - reserved);

    private bool PageFits(int limit) => _outbound.Pending + _framesInFlight + limit + ReplayFramesPerPage <= _outbound.Capacity * 3 / 4;

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
                // A page in flight pumps again when it is answered; only a client that has yet to read needs the timer.
                if (_framesInFlight == 0) SchedulePump();
                return;
            }
            var chatId = queue.Dequeue();
            Fetch(chatId, StreamOf(chatId), SyncFirstPageLimit);
        }
        if (_syncFetchQueue is { Count: 0 }) _syncFetchQueue = null;
    }

    /// <summary>Both queues wait for the same thing (the client reading, a page answered), so they share one timer.</summary>
    private void SchedulePump()
    {
        if (_pumpScheduled || _closing) return;
        _pumpScheduled = true;
        Context.System.Scheduler.ScheduleTellOnce(PagePumpDelay, Self, PumpFetches.Instance, Self);
    }

    private void OnPumpFetches()
    {
        _pumpScheduled = false;
        PumpFetchQueues();
    }

    /// <summary>Starts what fits of the sync's queue, then of the chats waiting for the budget.</summary>
    private void PumpFetchQueues()
    {
        PumpSyncFetchQueue();
        PumpBudgetQueue();
    }

    /// <summary>A full page fits: the client has taken at least half of its queue, and the page fits the budget.</summary>
    private bool FullPageFits => _outbound.Pending <= _outbound.Capacity / 2 && (PageFits(PageLimit) || _framesInFlight == 0);

    /// <summary>
    /// Fetches a page of the chat now if it fits (<see cref="FullPageFits"/>) and no other chat waits before it;
    /// otherwise the chat waits its turn in one queue, with its stream marked as fetching so that its live
    /// messages wait too. Every fetch but a sync's goes through here: a chat's next page, a gap, a chat head, a
    /// catch-up, a retry. (Before, a gap or a chat head fetched at once, and several could overflow the client's
    /// queue; and each waiting chat polled on a timer of its own.)
    /// </summary>
    private void FetchWhenItFits(ChatId chatId, ChatStream stream)
    {
        if (_closing) return;
        if (_budgetQueue is not { Count: > 0 } && FullPageFits)
        {
            Fetch(chatId, stream);
            return;
        }
        stream.Fetching = true;
        (_budgetQueue ??= new Queue<ChatId>()).Enqueue(chatId);
        SchedulePump();
    }

    /// <summary>Fetches the waiting chats, first come first served, while their pages fit; pumped by each answered page and the shared timer.</summary>
    private void PumpBudgetQueue()
    {
        while (_budgetQueue is { Count: > 0 } queue && !_closing && FullPageFits)
        {
            var chatId = queue.Dequeue();
            Fetch(chatId, StreamOf(chatId));
        }
        if (_budgetQueue is { Count: 0 }) _budgetQueue = null;
        // A page in flight pumps again when it is answered; only a client that has yet to read needs the timer.
        else if (_budgetQueue is not null && _framesInFlight == 0) SchedulePump();
    }
}
