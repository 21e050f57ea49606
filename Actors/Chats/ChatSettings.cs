namespace Natter.Actors.Chats;

/// <summary>Tuning of ChatActors, bound from configuration section Natter:Chat.</summary>
public sealed record ChatSettings
{
    /// <summary>Save a snapshot after this many events; older snapshots are deleted, the journal never.</summary>
    public int SnapshotEvery { get; init; } = 1000;

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

    /// <summary>The Akka.Persistence.Query plugin that reads a chat's older messages.</summary>
    public string ReadJournalPluginId { get; init; } = "akka.persistence.query.journal.sql";
}
