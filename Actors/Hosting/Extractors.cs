using Akka.Cluster.Sharding;
using Natter.Messages;

namespace Natter.Actors.Hosting;

/// <summary>Shard counts never change once data exists: about ten times the largest planned node count.</summary>
public static class ShardCounts
{
    public const int Chats = 100;
    public const int Users = 100;
    public const int Presence = 100;
}

/// <summary>Routes anything about one chat to its ChatActor; foreign messages get null, never an empty id.</summary>
public sealed class ChatMessageExtractor() : HashCodeMessageExtractor(ShardCounts.Chats)
{
    public override string? EntityId(object message) => (message as IWithChatId)?.ChatId.Value;
}

/// <summary>Routes account messages to the UserActor of their user.</summary>
public sealed class UserMessageExtractor() : HashCodeMessageExtractor(ShardCounts.Users)
{
    public override string? EntityId(object message) => (message as IWithUserId)?.UserId.Value;
}

/// <summary>Routes presence messages to the PresenceActor of their user.</summary>
public sealed class PresenceMessageExtractor() : HashCodeMessageExtractor(ShardCounts.Presence)
{
    public override string? EntityId(object message) => (message as IWithUserId)?.UserId.Value;
}

/// <summary>
/// ActorRegistry keys of the three shard regions (or their proxies on edge-only nodes), and of the edge's
/// <see cref="Connections.ChatFanout"/>.
/// </summary>
public sealed class ChatRegion;

public sealed class UserRegion;

public sealed class PresenceRegion;

public sealed class ChatFanoutActor;
