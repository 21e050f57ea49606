using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;

namespace Natter.Actors.Hosting;

/// <summary>
/// Akka.Persistence.Sql's journal with a commit window: the writes of all persistent actors that arrive
/// within <c>commit-window</c> of the first go to the database as one transaction, so one flush to disk (one
/// fsync on SQLite, one WAL flush on PostgreSQL) makes many chats' messages durable. The plugin writes as
/// soon as its previous transaction ends; on this machine a transaction took about half a millisecond, so
/// under load each carried about four messages and paid its own fsync and its own WAL pages
/// (docs/benchmarks.md). Every write is still acknowledged only after its transaction commits, and a failed
/// transaction fails every write in it, as the plugin's own batching already does.
/// <para>
/// A window of zero writes each request at once, as the plain plugin does. A window is also closed early once
/// it holds <c>batch-size</c> events, the most the plugin puts in one transaction.
/// </para>
/// </summary>
public sealed class GroupCommitJournal : SqlWriteJournal
{
    private readonly TimeSpan _window;
    private readonly int _eventsPerCommit;
    private List<GatheredWrite> _gathered = [];
    private int _gatheredEvents;
    private long _windowNumber;

    // Persistence ids with a write gathered or in flight here: a recovering actor must not read its highest
    // sequence number before the write of its previous incarnation has ended (the plugin tracks only the
    // first persistence id of each request it is given, and a gathered request is not yet given to it).
    private readonly Dictionary<string, Task> _unfinished = new();

    public GroupCommitJournal(Config journalConfig) : base(journalConfig)
    {
        _window = journalConfig.GetTimeSpan("commit-window", TimeSpan.Zero, allowInfinite: false);
        _eventsPerCommit = Math.Max(1, journalConfig.GetInt("batch-size", 100));
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        if (_window <= TimeSpan.Zero) return base.WriteMessagesAsync(messages, cancellationToken);

        var write = new GatheredWrite(messages.ToList());
        _gathered.Add(write);
        _gatheredEvents += write.Events;
        foreach (var atomic in write.Writes) _unfinished[atomic.PersistenceId] = write.Done;

        if (_gatheredEvents >= _eventsPerCommit) Commit();
        else if (_gathered.Count == 1) CloseWindowLater();
        return write.Done;
    }

    private void CloseWindowLater()
    {
        var self = Self;
        var window = _windowNumber;
        Task.Delay(_window).ContinueWith(_ => self.Tell(new CloseWindow(window)), TaskContinuationOptions.ExecuteSynchronously);
    }

    private void Commit()
    {
        var gathered = _gathered;
        _gathered = [];
        _gatheredEvents = 0;
        _windowNumber++;

        var writes = gathered.Count == 1 ? gathered[0].Writes : gathered.SelectMany(g => g.Writes).ToList();
        Task<IImmutableList<Exception>> committed;
        try
        {
            // Not any one request's token: a request that times out must not cancel the others' commit (the
            // journal's circuit breaker answers a timed-out request on its own).
            committed = base.WriteMessagesAsync(writes, CancellationToken.None);
        }
        catch (Exception e)
        {
            committed = Task.FromException<IImmutableList<Exception>>(e);
        }

        var self = Self;
        committed.ContinueWith(t =>
        {
            Answer(gathered, t);
            self.Tell(new Committed(gathered));
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
        var rejections = committed.Result;
        var offset = 0;
        foreach (var write in gathered)
        {
            // A null list means every write of the transaction was accepted.
            write.Completion.TrySetResult(rejections is null ? null! : ImmutableList.CreateRange(rejections.Skip(offset).Take(write.Writes.Count)));
            offset += write.Writes.Count;
        }
    }

    protected override bool ReceivePluginInternal(object message)
    {
        switch (message)
        {
            case CloseWindow close:
                if (close.Window == _windowNumber && _gathered.Count > 0) Commit();
                return true;
            case Committed committed:
                foreach (var write in committed.Writes)
                foreach (var atomic in write.Writes)
                    if (_unfinished.TryGetValue(atomic.PersistenceId, out var latest) && latest == write.Done)
                        _unfinished.Remove(atomic.PersistenceId);
                return true;
            default:
                return base.ReceivePluginInternal(message);
        }
    }

    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        if (_unfinished.TryGetValue(persistenceId, out var write))
            await write.ContinueWith(static _ => { }, cancellationToken, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return await base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken);
    }

    protected override void PostStop()
    {
        foreach (var write in _gathered)
            write.Completion.TrySetException(new InvalidOperationException("The journal stopped before this write was committed"));
        base.PostStop();
    }

    private sealed class GatheredWrite(List<AtomicWrite> writes)
    {
        public List<AtomicWrite> Writes { get; } = writes;
        public int Events { get; } = writes.Sum(w => w.Size);
        // The journal's continuations only tell actors, so they may run on the committing thread.
        public TaskCompletionSource<IImmutableList<Exception>> Completion { get; } = new();
        public Task<IImmutableList<Exception>> Done => Completion.Task;
    }

    private sealed record CloseWindow(long Window);

    private sealed record Committed(List<GatheredWrite> Writes);
}
