namespace Natter.Actors.Connections;

/// <summary>
/// What one connection has pushed of one chat: messages go out strictly in seq order with no gaps.
/// While a fetch from the chat is in flight, live messages only raise <see cref="HighestSeen"/>;
/// the fetch loop continues until it has passed them.
/// </summary>
public sealed class ChatStream
{
    /// <summary>Highest seq pushed to this device on this connection (or its starting cursor).</summary>
    public long Delivered { get; set; }

    /// <summary>False until a cursor is known: live messages then start the stream where they are.</summary>
    public bool Known { get; set; }

    /// <summary>
    /// A fetch is in flight, or the chat waits for one (in a sync's queue, for the page budget, or for a retry):
    /// live messages only raise <see cref="HighestSeen"/>.
    /// </summary>
    public bool Fetching { get; set; }

    public long HighestSeen { get; set; }

    /// <summary>Part of a sync whose completion the client is waiting for.</summary>
    public bool InSync { get; set; }

    /// <summary>Being fetched to catch up after the connection's presence entity was lost (ConnectionActor.Presence.cs).</summary>
    public bool CatchingUp { get; set; }

    /// <summary>Catch-up fetches of this chat the chat did not answer, in a row.</summary>
    public int CatchUpAttempts { get; set; }
}
