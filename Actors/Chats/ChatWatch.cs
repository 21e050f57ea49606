using Akka.Actor;
using Natter.Messages;

namespace Natter.Actors.Chats;

/// <summary>
/// How an edge process subscribes to a group's live entries. Its <see cref="Connections.ChatFanout"/> asks
/// once per (group, user) with connections there; the ChatActor then tells that fanout each notice once, and
/// the fanout hands it to its local connections. A 1,024-member group thus costs the ChatActor one message per
/// edge process, not one per member. These carry an IActorRef, so they live here rather than in Messages.
/// </summary>
public static class ChatWatch
{
    /// <summary>Subscribe <paramref name="Fanout"/> for <paramref name="User"/>; refused unless the user is a member.</summary>
    public sealed record WatchChat(ChatId ChatId, UserId User, IActorRef Fanout) : IWithChatId;

    /// <summary>The user has no connection left on that edge process.</summary>
    public sealed record UnwatchChat(ChatId ChatId, UserId User, IActorRef Fanout) : IWithChatId;

    /// <summary>
    /// The answer to <see cref="WatchChat"/>. When accepted, every entry after <see cref="LastSeq"/> will be told
    /// to the fanout; connections fetch anything up to it they have not seen.
    /// </summary>
    public sealed record ChatWatched(ChatId ChatId, UserId User, bool Accepted, long LastSeq) : IWithChatId;

    /// <summary>
    /// Told to a connection: every entry up to <paramref name="LastSeq"/> is durable; fetch what you lack. From a
    /// group's fanout when it subscribes, and from a direct chat to a connection it learns of (<see cref="MemberRoutes"/>).
    /// </summary>
    public sealed record ChatHead(ChatId ChatId, long LastSeq) : IWithChatId;
}
