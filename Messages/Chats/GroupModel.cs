namespace Natter.Messages.Chats;

/// <summary>What an admin or member asks of a group.</summary>
public enum GroupAction
{
    Create = 1,
    Add = 2,
    Remove = 3,
    Leave = 4,
    Join = 5,
    Promote = 6,
    Demote = 7,
    Rename = 8,
    ResetInvite = 9,
}

/// <summary>How a group's membership or name changed; each change is an entry of the chat's ordered log.</summary>
public enum GroupChangeKind
{
    Created = 1,
    Added = 2,
    Removed = 3,
    Left = 4,
    Joined = 5,
    Promoted = 6,
    Demoted = 7,
    Renamed = 8,
}

/// <summary>
/// One change of a group, as its members see it in the log: who was added/removed/promoted
/// (<see cref="Users"/>) and, on creation and rename, the group's <see cref="Name"/>.
/// </summary>
public sealed record GroupChange(GroupChangeKind Kind, IReadOnlyList<UserId> Users, string? Name = null)
{
    /// <summary>True when this change ends <paramref name="user"/>'s membership.</summary>
    public bool Ends(UserId user) => Kind is GroupChangeKind.Removed or GroupChangeKind.Left && Users.Contains(user);

    /// <summary>True when this change starts <paramref name="user"/>'s membership.</summary>
    public bool Starts(UserId user) =>
        Kind is GroupChangeKind.Created or GroupChangeKind.Added or GroupChangeKind.Joined && Users.Contains(user);
}

/// <summary>"Delivered to all" and "read by all": the highest seq every current member has received / read.</summary>
public sealed record GroupReceipts(long DeliveredToAll, long ReadByAll);
