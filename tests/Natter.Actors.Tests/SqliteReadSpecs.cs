using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using Akka.Persistence.Sql.Config;
using LinqToDB.Data;
using Microsoft.Data.Sqlite;
using Natter.Actors.Chats;
using Natter.Actors.Hosting;
using Natter.Messages;
using Natter.Messages.Chats;
using Xunit;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatQueries;
using static Natter.Messages.Chats.ChatReplies;

namespace Natter.Actors.Tests;

/// <summary>
/// Reads of the SQLite journal never wait for its write lock (see <see cref="SqliteDatabase.PersistenceSettings"/>):
/// a chat recovers, and the notification projection's query reads, while another connection holds the lock.
/// Before, each read began "BEGIN IMMEDIATE" and waited for the lock (here: until the 30 s command timeout).
/// </summary>
public sealed class SqliteReadSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000001");
    private static readonly UserId Bob = new("15550000002");
    private static readonly ChatId Chat = ChatId.Direct(Alice, Bob);
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    // Dilated by the specs' time factor (3) to 15 s: well under the 30 s a blocked read would wait.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly string _database;

    public SqliteReadSpecs() : this(SqliteJournalConfig.NewDatabaseFile()) { }

    private SqliteReadSpecs(string db) : base(SqliteJournalConfig.For(db), "sqlite-read-specs") => _database = db;

    [Fact]
    public void A_chat_recovers_and_the_journal_is_queried_while_another_connection_holds_the_write_lock()
    {
        var presence = CreateTestProbe();
        var chat = Sys.ActorOf(ChatActor.PropsFor(Chat.Value, presence, new ChatSettings()));
        chat.Tell(new CreateChat(Chat, ChatKind.Direct, [Alice, Bob], Alice, T0));
        ExpectMsg<ChatReady>(Patience);
        chat.Tell(new SendMessage(Chat, Alice, new DeviceId(1), "m1", [1], T0));
        ExpectMsg<MessageAccepted>(Patience);
        Watch(chat);
        chat.Tell(ChatActor.Stop.Instance);
        ExpectTerminated(chat, Patience);

        using var writer = HoldWriteLock();

        var recovered = Sys.ActorOf(ChatActor.PropsFor(Chat.Value, presence, new ChatSettings()));
        recovered.Tell(new GetMembersAt(Chat, 1));
        Assert.Equal([Alice, Bob], ExpectMsg<MembersAt>(Patience).Members.Order());

        var events = PersistenceQuery.Get(Sys).ReadJournalFor<SqlReadJournal>("akka.persistence.query.journal.sql")
            .CurrentAllEvents(Offset.NoOffset())
            .RunWith(Sink.Seq<EventEnvelope>(), Sys.Materializer());
        Assert.True(events.Wait(Dilated(Patience)), "the query waited for the write lock");
        Assert.Contains(events.Result, e => e.Event is ChatEvents.MessageAppended);
    }

    [Fact]
    public void Every_connection_of_the_journal_its_query_side_and_the_snapshot_store_waits_for_a_busy_lock_inside_sqlite_and_keeps_temporary_pages_in_memory()
    {
        var setup = Sys.Settings.Setup.Get<MultiDataOptionsSetup>();
        Assert.True(setup.HasValue);
        // The ids the plugins look their connection options up by, as this system configures them.
        foreach (var path in (string[])["akka.persistence.journal.sql", "akka.persistence.query.journal.sql", "akka.persistence.snapshot-store.sql"])
        {
            var pluginId = Sys.Settings.Config.GetString($"{path}.plugin-id");
            Assert.True(setup.Value.TryGetDataOptionsFor(pluginId, out var options), pluginId);
            using var connection = new DataConnection(options);
            Assert.Equal(SqliteDatabase.BusyTimeoutMilliseconds, connection.Execute<long>("PRAGMA busy_timeout;"));
            Assert.Equal(2L, connection.Execute<long>("PRAGMA temp_store;")); // 2 = MEMORY
        }
    }

    /// <summary>
    /// Another connection inside a write transaction: it holds SQLite's one write lock until disposed (unpooled:
    /// a pooled connection would go back to the pool still holding it).
    /// </summary>
    private SqliteConnection HoldWriteLock()
    {
        var connection = new SqliteConnection($"Data Source={_database};Pooling=False");
        connection.Open();
        using var begin = connection.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE;";
        begin.ExecuteNonQuery();
        return connection;
    }
}
