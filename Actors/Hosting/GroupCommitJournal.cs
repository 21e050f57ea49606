using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;

namespace Natter.Actors.Hosting;

/// <summary>
/// Akka.Persistence.Sql's journal with group commit: the writes of all persistent actors go to the database
/// in shared transactions, so one flush to disk (one fsync on SQLite, one WAL flush on PostgreSQL) makes many
/// chats' messages durable. The plugin alone writes as soon as its previous transaction ends; under load each
/// transaction then carried about four messages and paid its own fsync (docs/benchmarks.md). Every write is
/// still acknowledged only after its transaction commits.
/// <para>
/// One transaction at a time is in the plugin's hands. Transactions start at least <c>commit-window</c>
/// apart: a write that arrives when the last one started longer ago than that (a quiet journal) is committed
/// at once; others are gathered until the window since the last start has passed and the transaction before
/// has ended, then committed together, at most <c>batch-size</c> events at a time (the most the plugin puts in
/// one transaction). A window of zero hands each request to the plugin at once, as the plugin alone does.
/// </para>
/// <para>
/// If a transaction of several requests fails, nothing of it was written; its requests are then committed
/// again in halves, each half one transaction, until the one that broke it is alone, so one bad write (a
/// duplicate key after a handover, say) fails only its own actor, not every chat in the window. A request
/// whose call has already timed out (its token is cancelled; the journal answered its actor) is not committed
/// any more.
/// </para>
/// <para>
/// Everything here runs on the journal actor's thread except the completion of a commit, which only answers
/// the gathered requests (their continuations are the journal's own replies) and tells this actor.
/// </para>
/// </summary>
public sealed class GroupCommitJournal : SqlWriteJournal
{
    private readonly TimeSpan _window;
    private readonly int _eventsPerCommit;
    private List<GatheredWrite> _gathered = [];
    private int _gatheredEvents;
    private bool _committing;
    private long? _lastCommitStarted;
    private long _windowNumber;
    private bool _windowTimerSet;
    // Requests of failed transactions, to be committed again one group after another before anything newer.
    private readonly LinkedList<List<GatheredWrite>> _retries = new();
    // Tells this instance's commits from those of an instance before a restart, whose answers may still arrive.
    private readonly object _incarnation = new();

    // Persistence ids with a write gathered or in flight here: a recovering actor must not read its highest
    // sequence number before the write of its previous incarnation has ended (the plugin tracks only the
    // first persistence id of each request it is given, and a gathered request is not yet given to it).
    private readonly Dictionary<string, GatheredWrite> _unfinished = new();
    private readonly Dictionary<string, List<WaitingRead>> _waitingReads = new();

    public GroupCommitJournal(Config journalConfig) : base(journalConfig)
    {
        _window = journalConfig.GetTimeSpan("commit-window", TimeSpan.Zero, allowInfinite: false);
        _eventsPerCommit = Math.Max(1, journalConfig.GetInt("batch-size", 100));
        var callTimeout = journalConfig.GetTimeSpan("circuit-breaker.call-timeout", TimeSpan.FromSeconds(10));
        if (_window < TimeSpan.Zero || _window >= callTimeout)
            throw new ConfigurationException($"commit-window {_window} must be at least zero and below circuit-breaker.call-timeout ({callTimeout})");
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        if (_window <= TimeSpan.Zero) return base.WriteMessagesAsync(messages, cancellationToken);

        var write = new GatheredWrite(messages.ToList(), cancellationToken);
        // A request with no events (DeferAsync behind a PersistAsync) has nothing to commit.
        if (write.Writes.Count == 0) return Task.FromResult<IImmutableList<Exception>>(ImmutableList<Exception>.Empty);
        _gathered.Add(write);
        _gatheredEvents += write.Events;
        foreach (var atomic in write.Writes) _unfinished[atomic.PersistenceId] = write;
        CommitIfDue();
        return write.Done;
    }

    /// <summary>Starts the next transaction if none is in flight and the window has passed or enough is gathered.</summary>
    private void CommitIfDue()
    {
        if (_committing || _gathered.Count == 0) return;
        var wait = _lastCommitStarted is { } last ? _window - Stopwatch.GetElapsedTime(last) : TimeSpan.Zero;
        if (wait > TimeSpan.Zero && _gatheredEvents < _eventsPerCommit)
        {
            CloseWindowIn(wait);
            return;
        }
        Commit(TakeGathered());
    }

    private void CloseWindowIn(TimeSpan wait)
    {
        if (_windowTimerSet) return;
        _windowTimerSet = true;
        var self = Self;
        var window = _windowNumber;
        Task.Delay(wait).ContinueWith(_ => self.Tell(new CloseWindow(window)), TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>The gathered requests in arrival order, up to one transaction's worth of events (at least one request).</summary>
    private List<GatheredWrite> TakeGathered()
    {
        var events = 0;
        var count = 0;
        while (count < _gathered.Count && (count == 0 || events + _gathered[count].Events <= _eventsPerCommit))
            events += _gathered[count++].Events;
        var taken = _gathered.GetRange(0, count);
        _gathered.RemoveRange(0, count);
        _gatheredEvents -= events;
        return taken;
    }

    private void Commit(List<GatheredWrite> group)
    {
        _committing = true;
        _windowNumber++;
        _windowTimerSet = false;

        // A request whose call timed out was answered with a failure already: it must not be written after all.
        foreach (var timedOut in group.Where(g => g.Token.IsCancellationRequested)) timedOut.Completion.TrySetCanceled(timedOut.Token);
        var live = group.Where(g => !g.Token.IsCancellationRequested).ToList();
        var self = Self;
        var incarnation = _incarnation;
        if (live.Count == 0)
        {
            self.Tell(new Committed(incarnation, group, Retry: null));
            return;
        }

        _lastCommitStarted = Stopwatch.GetTimestamp();
        Task<IImmutableList<Exception>> committed;
        try
        {
            // Not any one request's token: a request that times out must not cancel the others' commit (the
            // journal's circuit breaker answers a timed-out request on its own).
            committed = base.WriteMessagesAsync(live.Count == 1 ? live[0].Writes : live.SelectMany(g => g.Writes).ToList(), CancellationToken.None);
        }
        catch (Exception e)
        {
            committed = Task.FromException<IImmutableList<Exception>>(e);
        }

        committed.ContinueWith(t =>
        {
            // A transaction of several requests that failed rolled back as a whole: they are committed again.
            var failedAsWhole = t.IsFaulted && live.Count > 1;
            try
            {
                if (!failedAsWhole) Answer(live, t);
            }
            finally
            {
                self.Tell(new Committed(incarnation, group, failedAsWhole ? live : null));
            }
        }, TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>Gives each request its own part of the transaction's outcome, in the order it was gathered.</summary>
    private static void Answer(List<GatheredWrite> gathered, Task<IImmutableList<Exception>> committed)
    {
        if (committed.IsCanceled)
        {
            foreach (var write in gathered) write.Completion.TrySetCanceled();
            return;
        }
        if (committed.Exception is { } failed)
        {
            var cause = failed.InnerExceptions.Count == 1 ? failed.InnerExceptions[0] : failed;
            foreach (var write in gathered) write.Completion.TrySetException(cause);
            return;
        }
        var rejections = committed.Result; // completed: this runs in the commit's continuation
        var offset = 0;
        foreach (var write in gathered)
        {
            // One entry per AtomicWrite, in order; a null list means every write was accepted.
            write.Completion.TrySetResult(rejections is null ? null! : ImmutableList.CreateRange(rejections.Skip(offset).Take(write.Writes.Count)));
            offset += write.Writes.Count;
        }
    }

    protected override bool ReceivePluginInternal(object message)
    {
        switch (message)
        {
            case CloseWindow close:
                if (close.Window == _windowNumber)
                {
                    _windowTimerSet = false;
                    CommitIfDue();
                }
                return true;
            case Committed { Incarnation: var from } stale when from != _incarnation:
                // From before this journal restarted: what was still to be committed again is given up.
                foreach (var write in stale.Retry ?? []) write.Completion.TrySetException(Stopped());
                return true;
            case Committed committed:
                _committing = false;
                if (committed.Retry is { } failed)
                {
                    // Halves, each one transaction, until the request that broke it is alone: one bad write costs
                    // about 2 log2(n) transactions, not n. The first half goes first, so each actor's writes keep
                    // their order.
                    var half = failed.Count / 2;
                    _retries.AddFirst(failed.GetRange(half, failed.Count - half));
                    _retries.AddFirst(failed.GetRange(0, half));
                    foreach (var write in committed.Writes.Except(failed)) Finished(write);
                }
                else
                {
                    foreach (var write in committed.Writes) Finished(write);
                }
                if (_retries.First is { } next)
                {
                    _retries.RemoveFirst();
                    Commit(next.Value);
                }
                else
                {
                    CommitIfDue();
                }
                return true;
            default:
                return base.ReceivePluginInternal(message);
        }
    }

    private void Finished(GatheredWrite write)
    {
        foreach (var atomic in write.Writes)
        {
            var id = atomic.PersistenceId;
            if (!_unfinished.TryGetValue(id, out var latest) || latest != write) continue;
            _unfinished.Remove(id);
            if (!_waitingReads.Remove(id, out var reads)) continue;
            foreach (var read in reads) read.Start(base.ReadHighestSequenceNrAsync(id, read.From, read.Token));
        }
    }

    public override Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        if (!_unfinished.ContainsKey(persistenceId))
            return base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken);
        // Read once the write has ended (Finished), on this actor's thread, as the plugin expects.
        var read = new WaitingRead(fromSequenceNr, cancellationToken);
        if (!_waitingReads.TryGetValue(persistenceId, out var reads)) _waitingReads[persistenceId] = reads = [];
        reads.Add(read);
        return read.Highest;
    }

    protected override void PostStop()
    {
        var stopped = Stopped();
        foreach (var write in _gathered.Concat(_retries.SelectMany(r => r))) write.Completion.TrySetException(stopped);
        foreach (var read in _waitingReads.Values.SelectMany(r => r)) read.Fail(stopped);
        base.PostStop();
    }

    private static InvalidOperationException Stopped() => new("The journal stopped before this write was committed");

    private sealed class GatheredWrite(List<AtomicWrite> writes, CancellationToken token)
    {
        public List<AtomicWrite> Writes { get; } = writes;
        public CancellationToken Token { get; } = token;
        public int Events { get; } = writes.Sum(w => w.Size);
        public TaskCompletionSource<IImmutableList<Exception>> Completion { get; } = new();
        public Task<IImmutableList<Exception>> Done => Completion.Task;
    }

    /// <summary>A read of the highest sequence number that waits for a write; <see cref="Start"/> hands it the real read.</summary>
    private sealed class WaitingRead
    {
        private readonly TaskCompletionSource<Task<long>> _read = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public WaitingRead(long from, CancellationToken token)
        {
            From = from;
            Token = token;
            Highest = _read.Task.Unwrap();
        }

        public long From { get; }
        public CancellationToken Token { get; }
        public Task<long> Highest { get; }

        public void Start(Task<long> read) => _read.TrySetResult(read);

        public void Fail(Exception cause) => _read.TrySetException(cause);
    }

    private sealed record CloseWindow(long Window);

    /// <param name="Incarnation">The journal instance that committed (a restart makes a new one).</param>
    /// <param name="Writes">The requests of the transaction.</param>
    /// <param name="Retry">When it failed as a whole: its requests still to be committed, none answered yet.</param>
    private sealed record Committed(object Incarnation, List<GatheredWrite> Writes, List<GatheredWrite>? Retry);
}
