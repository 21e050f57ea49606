using Akka.Persistence.Journal;
using Natter.Messages.Chats;

namespace Natter.Actors.Notifications;

/// <summary>
/// Tags every stored message "notify", so the notification projection can read them in journal order
/// (EventsByTag) without the ChatActor doing anything on its hot path.
/// </summary>
public sealed class NotificationTagger : IWriteEventAdapter
{
    public const string Tag = "notify";

    public string Manifest(object evt) => string.Empty;

    public object ToJournal(object evt) => evt is ChatEvents.MessageAppended ? new Tagged(evt, [Tag]) : evt;
}
