using Akka.Actor;
using Akka.Persistence;
using Akka.TestKit.Xunit2;
using Natter.Actors.Hosting;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>
/// <see cref="GroupCommitJournal"/> on a real SQLite journal: writes of many persistent actors gathered in one
/// window are acknowledged only once committed, in each actor's order, and survive a restart; a full window
/// commits at once; an actor started again waits for its previous incarnation's gathered write before it
/// reads where its log ends.
/// </summary>
public sealed class GroupCommitJournalSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void Writes_of_many_actors_in_one_window_are_acknowledged_in_order_and_recovered_after_a_restart()
    {
        var database = SqliteJournalConfig.NewDatabaseFile();
        var ids = Enumerable.Range(1, 20).Select(i => $"recorder-{i}").ToArray();
        using (var kit = new Kit(database, "commit-window = 20ms"))
        {
            var recorders = ids.Select(id => kit.Sys.ActorOf(Recorder.PropsFor(id))).ToArray();
            for (var n = 1; n <= 5; n++)
                foreach (var recorder in recorders) recorder.Tell($"event-{n}", kit.TestActor);

            var written = Enumerable.Range(0, ids.Length * 5).Select(_ => kit.ExpectMsg<Written>(Patience)).ToList();
            foreach (var id in ids)
            {
                var mine = written.Where(w => w.PersistenceId == id).ToList();
                Assert.Equal(["event-1", "event-2", "event-3", "event-4", "event-5"], mine.Select(w => w.Event));
                Assert.Equal([1L, 2, 3, 4, 5], mine.Select(w => w.SequenceNr));
            }
        }

        using (var restarted = new Kit(database, "commit-window = 20ms"))
            foreach (var id in ids)
            {
                restarted.Sys.ActorOf(Recorder.PropsFor(id)).Tell(Recorder.GetEvents.Instance, restarted.TestActor);
                Assert.Equal(["event-1", "event-2", "event-3", "event-4", "event-5"], restarted.ExpectMsg<string[]>(Patience));
            }
    }

    [Fact]
    public void A_write_is_acknowledged_only_when_its_window_closes()
    {
        using var kit = new Kit(SqliteJournalConfig.NewDatabaseFile(), "commit-window = 3s");
        kit.Sys.ActorOf(Recorder.PropsFor("waiting")).Tell("event-1", kit.TestActor);

        kit.ExpectNoMsg(TimeSpan.FromSeconds(1));
        Assert.Equal("event-1", kit.ExpectMsg<Written>(Patience).Event);
    }

    [Fact]
    public void A_window_holding_batch_size_events_commits_at_once()
    {
        // The window alone would hold these writes for ten minutes.
        using var kit = new Kit(SqliteJournalConfig.NewDatabaseFile(), "commit-window = 600s, batch-size = 3");
        foreach (var id in (string[])["full-1", "full-2", "full-3"])
            kit.Sys.ActorOf(Recorder.PropsFor(id)).Tell("event-1", kit.TestActor);

        var written = Enumerable.Range(0, 3).Select(_ => kit.ExpectMsg<Written>(Patience)).ToList();
        Assert.Equal(["full-1", "full-2", "full-3"], written.Select(w => w.PersistenceId).Order());
    }

    [Fact]
    public void An_actor_started_again_waits_for_the_gathered_write_of_its_previous_incarnation()
    {
        using var kit = new Kit(SqliteJournalConfig.NewDatabaseFile(), "commit-window = 2s");
        var first = kit.Sys.ActorOf(Recorder.PropsFor("again"));
        // Recovered before it is told anything (a PoisonPill is not stashed during recovery, commands are).
        first.Tell(Recorder.GetEvents.Instance, kit.TestActor);
        Assert.Empty(kit.ExpectMsg<string[]>(Patience));
        first.Tell("event-1", kit.TestActor);
        kit.Watch(first);
        first.Tell(PoisonPill.Instance);
        kit.ExpectTerminated(first, Patience);

        // Its write is still gathered: recovery must not read the log's end (nothing yet) and write over it.
        var second = kit.Sys.ActorOf(Recorder.PropsFor("again"));
        second.Tell(Recorder.GetEvents.Instance, kit.TestActor);
        Assert.Equal(["event-1"], kit.ExpectMsg<string[]>(Patience));
        second.Tell("event-2", kit.TestActor);
        var written = kit.ExpectMsg<Written>(Patience);
        Assert.Equal(("event-2", 2L), (written.Event, written.SequenceNr));
    }

    private sealed class Kit(string database, string journal)
        : TestKit(SqliteJournalConfig.For(database, $"akka.persistence.journal.sql {{ {journal} }}"), "group-commit-specs");

    private sealed record Written(string PersistenceId, string Event, long SequenceNr);

    /// <summary>Persists each string it is told and answers once it is written.</summary>
    private sealed class Recorder : ReceivePersistentActor
    {
        private readonly List<string> _events = [];

        public Recorder(string persistenceId)
        {
            PersistenceId = persistenceId;
            Recover<string>(_events.Add);
            Command<string>(e => PersistAsync(e, persisted =>
            {
                _events.Add(persisted);
                Sender.Tell(new Written(PersistenceId, persisted, LastSequenceNr));
            }));
            Command<GetEvents>(_ => Sender.Tell(_events.ToArray()));
        }

        public override string PersistenceId { get; }

        public static Props PropsFor(string persistenceId) => Props.Create(() => new Recorder(persistenceId));

        public sealed class GetEvents
        {
            public static readonly GetEvents Instance = new();
            private GetEvents() { }
        }
    }
}
