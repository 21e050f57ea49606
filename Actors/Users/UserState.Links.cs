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

    /// <summary>Links not yet expired at <paramref name="now"/>.</summary>
    public IReadOnlyList<PendingLink> LiveLinks(DateTimeOffset now) => (Links ?? []).Where(l => l.ExpiresAt > now).ToList();

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecideRequestLink(RequestLink r)
    {
        if (Devices.Count >= MaxDevices) return ([], (UserRejections.TooManyDevices, $"an account has at most {MaxDevices} devices"));
        if (LiveLinks(r.At).Count(l => l.ApprovedAs is null) >= MaxPendingLinks)
            return ([], (UserRejections.TooManyLinks, $"at most {MaxPendingLinks} links wait for approval at once"));
        return ([new LinkRequested(Id, new PendingLink(r.LinkId, r.DeviceName, r.ApprovalHash, r.DeviceSecretHash, r.At, r.ExpiresAt, null))], null);
    }

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecideApproveLink(ApproveLink a)
    {
        var link = LiveLinks(a.At).FirstOrDefault(l => l.LinkId == a.LinkId && l.ApprovedAs is null);
        if (link is null || !CryptographicEquals(link.ApprovalHash, a.ApprovalHash))
            return ([], (UserRejections.InvalidLink, "no such link waiting for approval, or the wrong code"));
        if (Devices.All(d => d.Id != a.By)) return ([], (UserRejections.UnknownDevice, $"no device {a.By}"));
        if (Devices.Count >= MaxDevices) return ([], (UserRejections.TooManyDevices, $"an account has at most {MaxDevices} devices"));
        return ([new LinkApproved(Id, a.LinkId, a.By, new DeviceId(LastDeviceId + 1), a.At)], null);
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
            Devices = [.. Devices, new DeviceInfo(a.Device, link.DeviceName, a.At)],
            LastDeviceId = a.Device.Value,
            Links = (Links ?? []).Select(l => l.LinkId == a.LinkId ? l with { ApprovedAs = a.Device } : l).ToList(),
        };
    }
}
