using Natter.Actors.Chats;
using Natter.Actors.Notifications;

namespace Natter.Actors.Hosting;

/// <summary>
/// Everything an operator sets, bound from the "Natter" configuration section (appsettings.json or
/// environment variables such as Natter__Persistence__Provider=postgres).
/// </summary>
public sealed class NatterOptions
{
    public const string Section = "Natter";

    /// <summary>"edge", "node", or both; empty means both (the embedded default: one process serves everything).</summary>
    public string[] Roles { get; set; } = [];

    public string[] EffectiveRoles => Roles.Length == 0 ? [NatterRoles.Edge, NatterRoles.Node] : Roles;

    public string ActorSystemName { get; set; } = "natter";

    public RemotingOptions Remoting { get; set; } = new();

    /// <summary>Akka addresses of seed nodes; empty means this process forms a cluster of its own.</summary>
    public string[] SeedNodes { get; set; } = [];

    public PersistenceOptions Persistence { get; set; } = new();

    public ChatSettings Chat { get; set; } = new();

    public NotificationOptions Notifications { get; set; } = new();

    /// <summary>How shards are placed on the node members: "consistent-hashing" (the default) or "least-shard" (Akka's own).</summary>
    public string ShardAllocation { get; set; } = ShardAllocations.ConsistentHashing;

    public bool HostsEntities => EffectiveRoles.Contains(NatterRoles.Node);

    /// <summary>
    /// Set by the host, not by configuration: this process runs the media collector (it hosts entities and sees the
    /// media folder). Such members carry the "media" role too, and the oldest of them collects.
    /// </summary>
    public bool CollectsMedia { get; set; }

    /// <summary>The roles this member joins the cluster with: its configured ones, and "media" when it collects.</summary>
    public string[] ClusterRoles => CollectsMedia ? [.. EffectiveRoles, NatterRoles.Media] : EffectiveRoles;

    /// <summary>Refuses settings that would otherwise fall back silently to something else.</summary>
    public void Validate()
    {
        foreach (var role in EffectiveRoles)
            if (role is not (NatterRoles.Edge or NatterRoles.Node))
                throw new InvalidOperationException($"Natter:Roles: unknown role '{role}' (use \"edge\" and/or \"node\")");
        if (ShardAllocation is not (ShardAllocations.ConsistentHashing or ShardAllocations.LeastShard))
            throw new InvalidOperationException(
                $"Natter:ShardAllocation: unknown strategy '{ShardAllocation}' (use \"{ShardAllocations.ConsistentHashing}\" or \"{ShardAllocations.LeastShard}\")");
        // A deployment that still sets the static tokens of earlier versions would otherwise lose its pushes silently.
        if (Notifications.Push.FcmAccessToken is not null || Notifications.Push.ApnsAuthToken is not null)
            throw new InvalidOperationException("Natter:Notifications:Push:FcmAccessToken and ApnsAuthToken are no longer read (such tokens expire within "
                                                + "the hour): set FcmServiceAccountFile, and ApnsSigningKeyFile with ApnsKeyId and ApnsTeamId (docs/operations.md)");
        // A key that cannot be used fails the start, not the first push.
        // From refuses unusable private keys and subjects and a mismatched pair; an edge's public key alone is checked here.
        if ((VapidKeys.From(Notifications.Push)?.PublicKey ?? VapidKeys.PublicKeyFrom(Notifications.Push)) is { } publicKey)
            VapidKeys.CheckPublicKey(publicKey);
        // Edge-only processes hold no entities and never open the journal.
        if (!HostsEntities) return;
        if (!Persistence.Provider.Equals("sqlite", StringComparison.OrdinalIgnoreCase) && !Persistence.IsPostgres)
            throw new InvalidOperationException($"Natter:Persistence:Provider: unknown provider '{Persistence.Provider}' (use \"sqlite\" or \"postgres\")");
        if (Persistence.IsPostgres && string.IsNullOrWhiteSpace(Persistence.ConnectionString))
            throw new InvalidOperationException("Natter:Persistence:ConnectionString is required with the postgres provider");
        if (Persistence.CommitWindow < TimeSpan.Zero || Persistence.CommitWindow > TimeSpan.FromSeconds(1))
            throw new InvalidOperationException($"Natter:Persistence:CommitWindow: {Persistence.CommitWindow} is outside 0 to 1 s");
        if (!Persistence.IsPostgres) SqliteDatabase.RefuseSharedCache(Persistence.EffectiveConnectionString);
        // The projection's supervisor starts again after 1 s at first, backing off up to MaxBackoff.
        if (Notifications.MaxBackoff <= TimeSpan.FromSeconds(1))
            throw new InvalidOperationException($"Natter:Notifications:MaxBackoff ({Notifications.MaxBackoff}) must be above 1 s");
        // Zero would ask the presence entity again with every push.
        if (Chat.RoutesAnswerWithin <= TimeSpan.Zero || Chat.RoutesAskAgainAfter <= TimeSpan.Zero)
            throw new InvalidOperationException($"Natter:Chat:RoutesAnswerWithin ({Chat.RoutesAnswerWithin}) and RoutesAskAgainAfter ({Chat.RoutesAskAgainAfter}) must be above zero");
    }
}

public static class NatterRoles
{
    public const string Edge = "edge";
    public const string Node = "node";

    /// <summary>Not configured: added to the members that run the media collector (<see cref="NatterOptions.CollectsMedia"/>).</summary>
    public const string Media = "media";
}

public sealed class RemotingOptions
{
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>0 picks a free port (fine for a single process; multi-node clusters set a fixed one).</summary>
    public int Port { get; set; }

    public string? PublicHost { get; set; }
}

public sealed class PersistenceOptions
{
    /// <summary>"sqlite" (embedded default) or "postgres".</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>Defaults to a SQLite file under <see cref="DataDirectory"/>.</summary>
    public string? ConnectionString { get; set; }

    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// How long the journal gathers writes from all chats before it commits them as one transaction (one
    /// flush to disk for all of them); zero commits each write at once. A message is acknowledged only after
    /// its transaction commits either way. See <see cref="GroupCommitJournal"/>.
    /// </summary>
    public TimeSpan CommitWindow { get; set; } = TimeSpan.FromMilliseconds(1);

    public bool IsPostgres => Provider.Equals("postgres", StringComparison.OrdinalIgnoreCase);

    public string EffectiveConnectionString =>
        ConnectionString ?? $"Data Source={Path.Combine(DataDirectory, "natter.db")}";
}
