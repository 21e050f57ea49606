using System.Security.Cryptography;
using System.Text;
using Natter.Messages;
using Natter.Messages.Chats;
using static Natter.Messages.Chats.ChatCommands;
using static Natter.Messages.Chats.ChatEvents;

namespace Natter.Actors.Chats;

/// <summary>
/// Group rules: admins, membership limits, invite codes, and which part of the log each user may see
/// (from the change that made them a member, up to the change that ended it).
/// </summary>
public sealed partial class ChatState
{
    public const int MaxNameLength = 100;

    private readonly HashSet<UserId> _admins = new();
    private readonly Dictionary<UserId, long> _visibleFrom = new();
    private readonly Dictionary<UserId, long> _visibleTo = new();

    public int MaxGroupMembers { get; }
    public string? Name { get; private set; }
    public string? InviteCodeHash { get; private set; }
    public IReadOnlyCollection<UserId> Admins => _admins;

    public bool IsAdmin(UserId user) => _admins.Contains(user);

    /// <summary>A current member, or a former one who may still read the part of the log they were in.</summary>
    public bool CanRead(UserId user) => _visibleFrom.ContainsKey(user);

    /// <summary>The seqs <paramref name="user"/> may see: after <c>After</c>, up to <c>UpTo</c> (inclusive).</summary>
    public (long After, long UpTo) VisibleRange(UserId user) =>
        (_visibleFrom.GetValueOrDefault(user, 1) - 1, IsMember(user) ? long.MaxValue : _visibleTo.GetValueOrDefault(user, 0));

    /// <summary>
    /// The highest seq every current member has received (read). A member counts as having everything from
    /// before they joined, so adding someone never moves "delivered to all" back.
    /// </summary>
    public GroupReceipts GroupReceiptsUpTo(long upToSeq)
    {
        long delivered = upToSeq, read = upToSeq;
        foreach (var member in _members)
        {
            var before = _visibleFrom.GetValueOrDefault(member, 1) - 1;
            var memberRead = Math.Max(UserRead(member), before);
            // Read implies delivered (a sender has "read" their own message without a delivered cursor).
            delivered = Math.Min(delivered, Math.Max(UserDelivered(member), memberRead));
            read = Math.Min(read, memberRead);
        }
        return new GroupReceipts(delivered, read);
    }

    /// <summary>Of the current members who were members at <paramref name="seq"/>: who has read, received, neither.</summary>
    public ChatReplies.MessageReceipts MessageReceiptsAt(long seq)
    {
        List<UserId> readBy = [], deliveredTo = [], pending = [];
        foreach (var member in _members.Where(m => _visibleFrom.GetValueOrDefault(m, 1) <= seq))
        {
            if (UserRead(member) >= seq) readBy.Add(member);
            else if (UserDelivered(member) >= seq) deliveredTo.Add(member);
            else pending.Add(member);
        }
        return new ChatReplies.MessageReceipts(Id, seq, readBy, deliveredTo, pending);
    }

    /// <summary>Current members who were already members at <paramref name="seq"/>.</summary>
    public IReadOnlyList<UserId> MembersAt(long seq) => _members.Where(m => _visibleFrom.GetValueOrDefault(m, 1) <= seq).ToList();

    public static string HashInviteCode(string code) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code)));

    private Decision DecideGroup(ChangeGroup g)
    {
        if (g.Action == GroupAction.Create) return DecideCreateGroup(g);
        if (!Exists) return Reject(ChatRejections.ChatNotFound, "no such group");
        if (Kind != ChatKind.Group) return Reject(ChatRejections.NotAGroup, "this chat is not a group");
        if (g.Action == GroupAction.Join) return DecideJoin(g);
        if (!IsMember(g.By)) return Reject(ChatRejections.NotMember, "you are not a member of this group");
        if (g.Action == GroupAction.Leave) return DecideLeave(g);
        if (!IsAdmin(g.By)) return Reject(ChatRejections.NotAdmin, "only an admin of the group may do that");

        switch (g.Action)
        {
            case GroupAction.Add:
                var added = g.Users.Distinct().Where(u => !IsMember(u)).ToList();
                if (g.Users.Count == 0) return Reject(ChatRejections.InvalidMembers, "name at least one user to add");
                if (added.Count == 0) return Done(g);
                if (_members.Count + added.Count > MaxGroupMembers)
                    return Reject(ChatRejections.GroupFull, $"a group has at most {MaxGroupMembers} members");
                return Change(g, GroupChangeKind.Added, added);
            case GroupAction.Remove:
                if (g.Users.Contains(g.By)) return Reject(ChatRejections.InvalidMembers, "to remove yourself, leave the group");
                var removed = g.Users.Distinct().Where(IsMember).ToList();
                return removed.Count == 0 ? Done(g) : Change(g, GroupChangeKind.Removed, removed);
            case GroupAction.Promote:
                if (g.Users.FirstOrDefault(u => !IsMember(u)) is { Value: not null } outsider)
                    return Reject(ChatRejections.InvalidMembers, $"{outsider} is not a member of this group");
                var promoted = g.Users.Distinct().Where(u => !IsAdmin(u)).ToList();
                return promoted.Count == 0 ? Done(g) : Change(g, GroupChangeKind.Promoted, promoted);
            case GroupAction.Demote:
                var demoted = g.Users.Distinct().Where(IsAdmin).ToList();
                if (demoted.Count == _admins.Count && demoted.Count > 0)
                    return Reject(ChatRejections.InvalidMembers, "a group keeps at least one admin; promote someone first");
                return demoted.Count == 0 ? Done(g) : Change(g, GroupChangeKind.Demoted, demoted);
            case GroupAction.Rename:
                if (ValidName(g.Name) is not { } name) return InvalidName();
                return name == Name ? Done(g) : Change(g, GroupChangeKind.Renamed, [], name);
            case GroupAction.ResetInvite:
                if (string.IsNullOrEmpty(g.InviteCodeHash)) return Reject(ChatRejections.InvalidInvite, "no invite code given");
                return new Decision.Persist(new InviteCodeSet(Id, g.By, g.InviteCodeHash, g.At));
            default:
                return Reject(ChatRejections.InvalidField, $"unknown group action {g.Action}");
        }
    }

    private Decision DecideCreateGroup(ChangeGroup g)
    {
        if (!Id.IsGroup) return Reject(ChatRejections.InvalidField, $"'{Id}' is not a group id");
        if (Exists)
            return Kind == ChatKind.Group && CanRead(g.By) && _visibleFrom[g.By] == 1
                ? Done(g)
                : Reject(ChatRejections.AlreadyExists, "the chat exists");
        if (ValidName(g.Name) is not { } name) return InvalidName();
        var members = g.Users.Prepend(g.By).Distinct().ToList();
        if (members.Count > MaxGroupMembers)
            return Reject(ChatRejections.GroupFull, $"a group has at most {MaxGroupMembers} members");
        return Change(g, GroupChangeKind.Created, members, name);
    }

    private Decision DecideJoin(ChangeGroup g)
    {
        if (IsMember(g.By)) return Done(g);
        if (InviteCodeHash is null || g.InviteCodeHash is null
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(InviteCodeHash), Encoding.ASCII.GetBytes(g.InviteCodeHash)))
            return Reject(ChatRejections.InvalidInvite, "the invite code is not valid for this group");
        if (_members.Count >= MaxGroupMembers)
            return Reject(ChatRejections.GroupFull, $"a group has at most {MaxGroupMembers} members");
        return Change(g, GroupChangeKind.Joined, [g.By]);
    }

    /// <summary>Leaving; the last admin to leave hands the role to the longest-standing member (WhatsApp's rule).</summary>
    private Decision DecideLeave(ChangeGroup g)
    {
        var left = new GroupChanged(Id, LastSeq + 1, g.By, g.ByDevice, new GroupChange(GroupChangeKind.Left, [g.By]), g.At);
        var heir = _admins.Count == 1 && IsAdmin(g.By)
            ? _members.Where(m => m != g.By).OrderBy(m => _visibleFrom.GetValueOrDefault(m, 1)).ThenBy(m => m).FirstOrDefault()
            : default;
        if (heir.Value is null) return new Decision.Persist(left);
        var promotion = new GroupChanged(Id, LastSeq + 2, g.By, g.ByDevice, new GroupChange(GroupChangeKind.Promoted, [heir]), g.At);
        return new Decision.Persist([left, promotion]);
    }

    private void ApplyGroupChange(GroupChanged g, long journalSeqNr)
    {
        var change = g.Change;
        switch (change.Kind)
        {
            case GroupChangeKind.Created:
                Exists = true;
                Kind = ChatKind.Group;
                Name = change.Name;
                _admins.Add(g.By);
                goto case GroupChangeKind.Added;
            case GroupChangeKind.Added:
            case GroupChangeKind.Joined:
                foreach (var user in change.Users)
                {
                    AddMember(user);
                    _visibleFrom[user] = g.Seq;
                    _visibleTo.Remove(user);
                }
                break;
            case GroupChangeKind.Removed:
            case GroupChangeKind.Left:
                foreach (var user in change.Users)
                {
                    RemoveMember(user);
                    _admins.Remove(user);
                    _visibleTo[user] = g.Seq;
                }
                break;
            case GroupChangeKind.Promoted:
                _admins.UnionWith(change.Users);
                break;
            case GroupChangeKind.Demoted:
                _admins.ExceptWith(change.Users);
                break;
            case GroupChangeKind.Renamed:
                Name = change.Name;
                break;
        }
        AppendEntry(g.ToEntry(), journalSeqNr);
    }

    private Decision Change(ChangeGroup g, GroupChangeKind kind, IReadOnlyList<UserId> users, string? name = null) =>
        new Decision.Persist(new GroupChanged(Id, LastSeq + 1, g.By, g.ByDevice, new GroupChange(kind, users, name), g.At));

    private Decision Done(ChangeGroup g) => new Decision.AlreadyDone(new ChatReplies.GroupUpdated(Id, g.Action, 0));

    private static Decision Reject(string code, string reason) => new Decision.Reject(code, reason);

    private static string? ValidName(string? name) =>
        name?.Trim() is { Length: > 0 and <= MaxNameLength } trimmed ? trimmed : null;

    private static Decision InvalidName() =>
        Reject(ChatRejections.InvalidField, $"a group name is 1 to {MaxNameLength} characters");
}

public static class GroupChangedExtensions
{
    /// <summary>A group change as the log entry members see: the actor as sender, no body.</summary>
    public static ChatMessage ToEntry(this GroupChanged g) => new(g.ChatId, g.Seq, g.By, g.ByDevice, "", [], g.At, g.Change);
}
