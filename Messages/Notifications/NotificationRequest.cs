namespace Natter.Messages.Notifications;

/// <summary>
/// "Tell <see cref="Recipient"/> that something arrived in <see cref="ChatId"/> at <see cref="Seq"/>": what the
/// notification pipeline carries (the Kafka topic's value, keyed by recipient). It names the message, never
/// its body: the body is ciphertext to the server anyway, and a push provider must not see even that.
/// <see cref="Id"/> is stable (chat, seq, recipient), so a request published twice is dispatched once.
/// </summary>
public sealed record NotificationRequest(
    string Id,
    UserId Recipient,
    ChatId ChatId,
    long Seq,
    UserId Sender,
    DateTimeOffset At) : INatterMessage
{
    public static NotificationRequest For(UserId recipient, ChatId chatId, long seq, UserId sender, DateTimeOffset at) =>
        new($"{chatId.Value}:{seq}:{recipient.Value}", recipient, chatId, seq, sender, at);
}
