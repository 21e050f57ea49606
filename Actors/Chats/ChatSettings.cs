namespace Natter.Actors.Chats;

/// <summary>Tuning of ChatActors, bound from configuration section Natter:Chat.</summary>
public sealed record ChatSettings
{
    /// <summary>
    /// Save a snapshot after this many events, plus a fixed per-chat offset of up to a quarter of it (see
    /// <see cref="SnapshotSpacingFor"/>); older snapshots are deleted, the journal never.
    /// </summary>
    public int SnapshotEvery { get; init; } = 1000;

    /// <summary>
    /// Events between snapshots of one chat: <see cref="SnapshotEvery"/> plus an offset fixed by the chat's id,
    /// from 0 to a quarter of it. Chats that start together and get the same traffic (a restart, a benchmark)
    /// would otherwise all write their snapshots at the same moment; in `direct` 100 snapshots of about 180 KB
    /// each at once stalled the journal for about two seconds (docs/benchmarks.md).
    /// </summary>
    public long SnapshotSpacingFor(string persistenceId)
    {
        // FNV-1a: the same offset in every process and after every restart.
        var hash = 2166136261u;
        foreach (var c in persistenceId) hash = (hash ^ c) * 16777619u;
        var every = Math.Max(1, SnapshotEvery);
        return every + hash % (uint)(every / 4 + 1);
    }

    /// <summary>Newest messages kept in memory per chat; older ones are read from the journal.</summary>
    public int RecentCapacity { get; init; } = 512;

    /// <summary>Most members a group may have (WhatsApp's limit is 1,024).</summary>
    public int MaxGroupMembers { get; init; } = 1024;

    /// <summary>clientMsgIds remembered per sending device for dedupe.</summary>
    public int DedupeWindow { get; init; } = 1024;

    /// <summary>
    /// Start recovery from the latest snapshot (true) or replay the whole journal (false; only for
    /// measuring what snapshots save, see the recovery benchmark).
    /// </summary>
    public bool RecoverFromSnapshots { get; init; } = true;

    /// <summary>
    /// A direct chat's pushes that wait for a member's routes (<see cref="MemberRoutes"/>) go through presence after
    /// this long without an answer, and the next push asks again.
    /// </summary>
    public TimeSpan RoutesAnswerWithin { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A direct chat that pushes asks again for routes it has had this long: the backstop for a lost change.</summary>
    public TimeSpan RoutesAskAgainAfter { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The Akka.Persistence.Query plugin that reads a chat's older messages.</summary>
    public string ReadJournalPluginId { get; init; } = "akka.persistence.query.journal.sql";
}
