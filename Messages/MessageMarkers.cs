namespace Natter.Messages;

/// <summary>Everything that may cross a process boundary or be stored. The serializer is bound to this marker.</summary>
public interface INatterMessage;

/// <summary>Routed to the ChatActor of <see cref="ChatId"/>.</summary>
public interface IWithChatId : INatterMessage
{
    ChatId ChatId { get; }
}

/// <summary>Routed to the UserActor or PresenceActor of <see cref="UserId"/>.</summary>
public interface IWithUserId : INatterMessage
{
    UserId UserId { get; }
}

/// <summary>An event stored in a journal. Never renamed without a manifest alias.</summary>
public interface INatterEvent : INatterMessage;
