using Natter.Messages;
using Natter.Messages.Users;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserEvents;

namespace Natter.Actors.Users;

/// <summary>
/// Linking a device: the new device asks, an existing device approves it with the code the new one
/// shows (a QR code in practice), and the new device collects its session with a secret only it holds.
/// </summary>
public sealed partial record UserState
{
    public const int MaxPendingLinks = 3;

    /// <summary>Pending links with the oldest unapproved ones dropped so one more fits the limit.</summary>
    private static IEnumerable<PendingLink> WithRoomForOneMore(IReadOnlyList<PendingLink> live)
    {
        var excess = live.Count(l => l.ApprovedAs is null) - (MaxPendingLinks - 1);
        var dropped = live.Where(l => l.ApprovedAs is null).OrderBy(l => l.RequestedAt).Take(Math.Max(0, excess)).Select(l => l.LinkId).ToHashSet();
        return live.Where(l => !dropped.Contains(l.LinkId));
    }

    /// <summary>Links not yet expired at <paramref name="now"/>.</summary>
    public IReadOnlyList<PendingLink> LiveLinks(DateTimeOffset now) => (Links ?? []).Where(l => l.ExpiresAt > now).ToList();

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecideRequestLink(RequestLink r)
    {
        if (Devices.Count >= MaxDevices) return ([], (UserRejections.TooManyDevices, $"an account has at most {MaxDevices} devices"));
        // Anyone may ask: past the limit the oldest request goes, so strangers cannot block linking (the edge rate-limits asking).
        return ([new LinkRequested(Id, new PendingLink(r.LinkId, r.DeviceName, r.ApprovalHash, r.DeviceSecretHash, r.At, r.ExpiresAt, null))], null);
    }

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecideApproveLink(ApproveLink a)
    {
        var link = LiveLinks(a.At).FirstOrDefault(l => l.LinkId == a.LinkId && l.ApprovedAs is null);
        if (link is null || !CryptographicEquals(link.ApprovalHash, a.ApprovalHash))
            return ([], (UserRejections.InvalidLink, "no such link waiting for approval, or the wrong code"));
        if (Devices.All(d => d.Id != a.By)) return ([], (UserRejections.UnknownDevice, $"no device {a.By}"));
        // As with removing devices: the primary decides who joins the account.
        if (a.By != Devices[0].Id) return ([], (UserRejections.NotPrimary, "only the primary device approves new devices"));
        if (Devices.Count >= MaxDevices) return ([], (UserRejections.TooManyDevices, $"an account has at most {MaxDevices} devices"));
        // The edge checked the signature with this key; it must still be the primary's (a reinstall may have raced it).
        if (a.Endorsement is { } e && KeysOf(Devices[0].Id)?.IdentityKey.AsSpan().SequenceEqual(e.AccountKey) != true)
            return ([], (UserRejections.InvalidKey, "the endorsement is not signed with the primary device's published identity key"));
        if (ApprovalListRefusal(a) is { } refusal) return ([], refusal);
        var approved = new LinkApproved(Id, a.LinkId, a.By, new DeviceId(LastDeviceId + 1), a.At, a.Endorsement);
        return (a.DeviceList is { } list ? [approved, new DeviceListPublished(Id, a.By, list, a.At)] : [approved], null);
    }

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecideCompleteLink(CompleteLink c)
    {
        var link = LiveLinks(c.At).FirstOrDefault(l => l.LinkId == c.LinkId);
        if (link is null || !CryptographicEquals(link.DeviceSecretHash, c.DeviceSecretHash))
            return ([], (UserRejections.InvalidLink, "no such link, or the wrong secret"));
        if (link.ApprovedAs is not { } device) return ([], (UserRejections.LinkPending, "not approved yet; ask again shortly"));
        // Approved, then removed before it collected its session.
        if (Devices.All(d => d.Id != device)) return ([], (UserRejections.InvalidLink, "the linked device was removed"));
        return ([new LinkCompleted(Id, c.LinkId, c.At)], null);
    }

    private UserState ApplyLinkApproved(LinkApproved a)
    {
        var link = (Links ?? []).First(l => l.LinkId == a.LinkId);
        return this with
        {
            Devices = [.. Devices, new DeviceInfo(a.Device, link.DeviceName, a.At, a.Endorsement)],
            LastDeviceId = a.Device.Value,
            // The new device gets a full lifetime from the approval to collect its session (and the endorsement with it).
            Links = (Links ?? []).Select(l => l.LinkId == a.LinkId
                ? l with { ApprovedAs = a.Device, ExpiresAt = a.At + (l.ExpiresAt - l.RequestedAt), Endorsement = a.Endorsement }
                : l).ToList(),
        };
    }
}
