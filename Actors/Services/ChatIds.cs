using Natter.Messages;
using Natter.Messages.Protocol;

namespace Natter.Actors.Services;

/// <summary>
/// Cheap checks on a chat id before it reaches the cluster, so a malformed or foreign id never spawns a
/// ChatActor. The ChatActor still checks membership itself; this only refuses early.
/// </summary>
public static class ChatIds
{
    public static bool MayBeMember(ChatId chatId, UserId user, out (string Code, string Message) refusal)
    {
        // A group's members are known only to its ChatActor; a well-formed id is all that can be checked here.
        if (chatId.IsGroup)
        {
            refusal = default;
            return true;
        }
        if (chatId.DirectMembers() is not var (a, b))
        {
            refusal = (ErrorCodes.ChatNotFound, $"no chat '{chatId}'");
            return false;
        }
        if (a != user && b != user)
        {
            refusal = (ErrorCodes.NotMember, "you are not a member of this chat");
            return false;
        }
        refusal = default;
        return true;
    }
}
