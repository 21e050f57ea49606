using Natter.Messages;
using Natter.Messages.Chats;

namespace Natter.Actors.Services;

/// <summary>A group action as a client states it (socket frame or REST body), before it is checked.</summary>
public sealed record GroupRequest(string? Action, string? GroupId, IReadOnlyList<string>? UserIds, string? Name, string? InviteCode);

/// <summary>What a group action did: the group, the action, its entry in the log, and a new invite code if one was made.</summary>
public sealed record GroupOutcome(ChatId GroupId, GroupAction Action, long Seq, string? InviteCode);

public static class GroupActions
{
    private static readonly Dictionary<string, GroupAction> ByName = new(StringComparer.Ordinal)
    {
        ["create"] = GroupAction.Create,
        ["add"] = GroupAction.Add,
        ["remove"] = GroupAction.Remove,
        ["leave"] = GroupAction.Leave,
        ["join"] = GroupAction.Join,
        ["promote"] = GroupAction.Promote,
        ["demote"] = GroupAction.Demote,
        ["rename"] = GroupAction.Rename,
        ["reset_invite"] = GroupAction.ResetInvite,
    };

    public static IReadOnlyCollection<string> Names => ByName.Keys;

    public static GroupAction? Parse(string? name) => name is not null && ByName.TryGetValue(name, out var a) ? a : null;

    public static string NameOf(GroupAction action) => ByName.First(kv => kv.Value == action).Key;
}
