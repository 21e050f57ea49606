using System.Diagnostics;
using Akka.Actor;
using Akka.Persistence;
using Akka.TestKit.Xunit2;
using Microsoft.Data.Sqlite;
using Natter.Actors.Hosting;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>
/// <see cref="GroupCommitJournal"/> on a real SQLite journal: writes of many persistent actors gathered in one
/// window are committed together and acknowledged only then, in each actor's order, and survive a restart; a
/// quiet journal commits a write at once and the writes after it wait for the window; a write that cannot be
/// serialized is rejected alone; a failed transaction fails only the request that broke it; an actor started
/// again waits for its previous incarnation's gathered write before it reads where its log ends.
/// A quiet journal commits at once, so specs that need writes gathered first write a primer, which starts the
/// window.
/// </summary>
public sealed class GroupCommitJournalSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    // The window alone would hold writes for nine seconds (below the journal's 10 s call timeout); batch-size
    // closes it at three events.
    private const string ThreeEventsPerCommit = "commit-window = 9s, batch-size = 3";

    [Fact]
    public void Writes_of_many_actors_are_acknowledged_in_order_and_recovered_after_a_restart()
    {
        var database = SqliteJournalConfig.NewDatabaseFile();
        var ids = Enumerable.Range(1, 20).Select(i => $"recorder-{i}").ToArray();
        using (var kit = new Kit(database, "commit-window = 20ms"))
        {
            var recorders = kit.Recovered(ids);
            for (var n = 1; n <= 5; n++)
                foreach (var recorder in recorders) recorder.Tell($"event-{n}");

            var written = Enumerable.Range(0, ids.Length * 5).Select(_ => kit.ExpectMsg<Written>(Patience)).ToList();
            foreach (var id in ids)
            {
                var mine = written.Where(w => w.PersistenceId == id).ToList();
                Assert.Equal(["event-1", "event-2", "event-3", "event-4", "event-5"], mine.Select(w => w.Event));
                Assert.Equal([1L, 2, 3, 4, 5], mine.Select(w => w.SequenceNr));
            }
        }

        using var restarted = new Kit(database, "commit-window = 20ms");
        foreach (var recorder in restarted.Recovered(ids))
        {
            recorder.Tell(Recorder.GetEvents.Instance);
            Assert.Equal(["event-1", "event-2", "event-3", "event-4", "event-5"], restarted.ExpectMsg<string[]>(Patience));
        }
    }

    [Fact]
    public void A_window_holding_batch_size_events_commits_them_at_once_in_one_transaction()
    {
        var database = SqliteJournalConfig.NewDatabaseFile();
        using var kit = new Kit(database, ThreeEventsPerCommit);
        var recorders = kit.Recovered("full-1", "full-2", "full-3");
        var clock = Stopwatch.StartNew();
        kit.WritePrimer();
        foreach (var recorder in recorders) recorder.Tell("event-1");

        var written = Enumerable.Range(0, 3).Select(_ => kit.ExpectMsg<Written>(Patience)).ToList();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"committed after {clock.Elapsed}: the window closed on its timer, not when full");
        Assert.Equal(["full-1", "full-2", "full-3"], written.Select(w => w.PersistenceId).Order());
        // The plugin stamps each transaction's rows with one time.
        Assert.Equal(1L, Scalar(database, "SELECT COUNT(DISTINCT created) FROM journal WHERE persistence_id LIKE 'full-%'"));
    }

    [Fact]
    public void A_write_to_a_quiet_journal_is_committed_at_once_and_the_next_waits_for_the_window()
    {
        var window = TimeSpan.FromSeconds(3);
        using var kit = new Kit(SqliteJournalConfig.NewDatabaseFile(), $"commit-window = {window.TotalMilliseconds}ms");
        var recorder = kit.Recovered("waiting")[0];

        var clock = Stopwatch.StartNew();
        recorder.Tell("event-1");
        Assert.Equal("event-1", kit.ExpectMsg<Written>(Patience).Event);
        Assert.True(clock.Elapsed < window / 2, $"acknowledged after {clock.Elapsed}: a quiet journal waited for the window");

        recorder.Tell("event-2");
        Assert.Equal("event-2", kit.ExpectMsg<Written>(Patience).Event);
        Assert.True(clock.Elapsed >= window, $"acknowledged after {clock.Elapsed}, before the window since the last commit passed");
    }

    [Fact]
    public void A_write_that_cannot_be_serialized_is_rejected_alone()
    {
        using var kit = new Kit(SqliteJournalConfig.NewDatabaseFile(), ThreeEventsPerCommit);
        var recorders = kit.Recovered("fine-1", "broken", "fine-2");
        kit.WritePrimer();
        recorders[0].Tell("event-1");
        recorders[1].Tell(new Unserializable());
        recorders[2].Tell("event-1");

        var answers = Enumerable.Range(0, 3).Select(_ => kit.ExpectMsg<object>(Patience)).ToList();
        Assert.Equal(["fine-1", "fine-2"], answers.OfType<Written>().Select(w => w.PersistenceId).Order());
        Assert.Equal("broken", Assert.Single(answers.OfType<Rejected>()).PersistenceId);
    }

    [Fact]
    public void A_failed_transaction_is_committed_again_in_parts_and_fails_only_the_request_that_broke_it()
    {
        var database = SqliteJournalConfig.NewDatabaseFile();
        using var kit = new Kit(database, ThreeEventsPerCommit);
        var recorders = kit.Recovered("fine-1", "taken", "fine-2");
        // Another writer took "taken"'s next sequence number after it recovered, as after a lost handover.
        Scalar(database, "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES (0, 0, 'taken', 1, x'00')");
        kit.Watch(recorders[1]);

        kit.WritePrimer();
        foreach (var recorder in recorders) recorder.Tell("event-1");

        // Two writes and one failed actor, in any order.
        var answers = Enumerable.Range(0, 3).Select(_ => kit.ExpectMsg<object>(Patience)).ToList();
        Assert.Equal(["fine-1", "fine-2"], answers.OfType<Written>().Select(w => w.PersistenceId).Order());
        Assert.Equal(recorders[1], Assert.Single(answers.OfType<Terminated>()).ActorRef);
    }

    [Fact]
    public void With_one_bad_request_among_sixteen_the_others_are_written_in_halves_not_one_by_one()
    {
        var database = SqliteJournalConfig.NewDatabaseFile();
        using var kit = new Kit(database, "commit-window = 9s, batch-size = 16");
        var ids = Enumerable.Range(1, 16).Select(i => $"half-{i}").ToArray();
        var recorders = kit.Recovered(ids);
        Scalar(database, "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES (0, 0, 'half-6', 1, x'00')");

        kit.WritePrimer();
        foreach (var recorder in recorders) recorder.Tell("event-1");

        var written = Enumerable.Range(0, 15).Select(_ => kit.ExpectMsg<Written>(Patience).PersistenceId).Order().ToList();
        Assert.Equal(ids.Where(id => id != "half-6").Order(), written);
        // The halves that hold only good requests commit whole: 8, 4, 2 and 1 of them. One by one would take 15.
        Assert.Equal(4L, Scalar(database, "SELECT COUNT(DISTINCT created) FROM journal WHERE persistence_id LIKE 'half-%' AND created > 0"));
    }

    [Fact]
    public void An_actor_started_again_waits_for_the_gathered_write_of_its_previous_incarnation()
    {
        using var kit = new Kit(SqliteJournalConfig.NewDatabaseFile(), "commit-window = 2s");
        var first = kit.Recovered("again")[0];
        kit.WritePrimer();
        first.Tell("event-1");
        kit.Watch(first);
        first.Tell(PoisonPill.Instance);
        kit.ExpectTerminated(first, Patience);

        // Its write is still gathered: recovery must not read the log's end (nothing yet) and write over it.
        var second = kit.Sys.ActorOf(Recorder.PropsFor("again", kit.TestActor));
        second.Tell(Recorder.GetEvents.Instance);
        Assert.Equal(["event-1"], kit.ExpectMsg<string[]>(Patience));
        second.Tell("event-2");
        var written = kit.ExpectMsg<Written>(Patience);
        Assert.Equal(("event-2", 2L), (written.Event, written.SequenceNr));
    }

    [Fact]
    public void A_request_whose_call_timed_out_while_it_waited_is_not_committed()
    {
        var database = SqliteJournalConfig.NewDatabaseFile();
        using var kit = new Kit(database, "commit-window = 50ms, circuit-breaker.call-timeout = 1s");
        var recorders = kit.Recovered("first", "second", "after");
        using (var writer = Open(database))
        {
            // Another writer holds the database. Whichever write reaches the journal first is committed at once
            // and waits on SQLite's busy timeout (5 s); the other waits behind it. Both calls time out, and
            // both actors are told so and stop.
            Execute(writer, "BEGIN IMMEDIATE");
            kit.Watch(recorders[0]);
            kit.Watch(recorders[1]);
            recorders[0].Tell("event-1");
            recorders[1].Tell("event-1");
            var stopped = Enumerable.Range(0, 2).Select(_ => kit.ExpectMsg<Terminated>(Patience).ActorRef).ToHashSet();
            Assert.True(stopped.SetEquals(recorders.Take(2)), "both actors whose calls timed out stop, in either order");
        }

        // Commits go one at a time: once a later write is acknowledged, the waiting one had its turn. The one
        // already in the plugin's hands is written late (the plugin's own behaviour); the waiting one is not.
        recorders[2].Tell("event-1");
        Assert.Equal("after", kit.ExpectMsg<Written>(Patience).PersistenceId);
        Assert.Equal(1L, Scalar(database, "SELECT COUNT(*) FROM journal WHERE persistence_id IN ('first', 'second')"));
    }

    private static SqliteConnection Open(string database)
    {
        var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(string database, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L);
    }

    private sealed class Kit(string database, string journal)
        : TestKit(SqliteJournalConfig.For(database, $"akka.persistence.journal.sql {{ {journal} }}"), "group-commit-specs")
    {
        /// <summary>Recorders that have finished recovery (a PoisonPill is not stashed during recovery, commands are).</summary>
        public IActorRef[] Recovered(params string[] ids)
        {
            var recorders = ids.Select(id => Sys.ActorOf(Recorder.PropsFor(id, TestActor))).ToArray();
            foreach (var recorder in recorders)
            {
                recorder.Tell(Recorder.GetEvents.Instance);
                ExpectMsg<string[]>(Patience);
            }
            return recorders;
        }

        /// <summary>Writes one event of its own and waits for it: the window starts, and writes right after it are gathered.</summary>
        public void WritePrimer()
        {
            var primer = Recovered($"primer-{Guid.NewGuid():N}")[0];
            primer.Tell("primer");
            ExpectMsg<Written>(Patience);
        }
    }

    private sealed record Written(string PersistenceId, string Event, long SequenceNr);

    private sealed record Rejected(string PersistenceId);

    /// <summary>Fails in the journal's serializer.</summary>
    private sealed class Unserializable
    {
        public string Value => throw new InvalidOperationException("cannot be serialized");
    }

    /// <summary>Persists what it is told and reports to <c>reporter</c> once it is written or rejected.</summary>
    private sealed class Recorder : ReceivePersistentActor
    {
        private readonly List<string> _events = [];
        private readonly IActorRef _reporter;

        public Recorder(string persistenceId, IActorRef reporter)
        {
            PersistenceId = persistenceId;
            _reporter = reporter;
            Recover<string>(_events.Add);
            Command<string>(e => PersistAsync(e, persisted =>
            {
                _events.Add(persisted);
                _reporter.Tell(new Written(PersistenceId, persisted, LastSequenceNr));
            }));
            Command<Unserializable>(e => PersistAsync(e, _ => { }));
            Command<GetEvents>(_ => _reporter.Tell(_events.ToArray()));
        }

        public override string PersistenceId { get; }

        protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr) =>
            _reporter.Tell(new Rejected(PersistenceId));

        public static Props PropsFor(string persistenceId, IActorRef reporter) => Props.Create(() => new Recorder(persistenceId, reporter));

        public sealed class GetEvents
        {
            public static readonly GetEvents Instance = new();
            private GetEvents() { }
        }
    }
}
