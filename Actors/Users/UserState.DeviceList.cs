using Natter.Messages;
using Natter.Messages.Users;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserEvents;

namespace Natter.Actors.Users;

/// <summary>
/// The account's signed device list (docs/e2ee.md §7.2): the primary's signature over the identity keys of the account's
/// devices under a growing version, which lets clients refuse a device the primary removed even though its endorsement
/// still verifies. The edge checks the signature; this checks that it is the current account key's, newer and whole.
/// </summary>
public sealed partial record UserState
{
    /// <summary>The list, while it is signed by the current account key (a new primary key voids it, as its endorsements).</summary>
    public SignedDeviceList? CurrentDeviceList() =>
        DeviceList is { } list && AccountKey() is { } accountKey && accountKey.AsSpan().SequenceEqual(list.AccountKey) ? list : null;

    private static bool Lists(SignedDeviceList list, byte[] identityKey) => list.Keys.Any(k => k.AsSpan().SequenceEqual(identityKey));

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecidePublishDeviceList(PublishDeviceList p)
    {
        if (Devices.All(d => d.Id != p.By)) return ([], (UserRejections.UnknownDevice, $"no device {p.By}"));
        if (p.By != Devices[0].Id) return ([], (UserRejections.NotPrimary, "only the primary device signs the account's device list"));
        return ListRefusal(p.List, added: null) is { } refusal ? ([], refusal) : ([new DeviceListPublished(Id, p.By, p.List, p.At)], null);
    }

    /// <summary>
    /// Why <paramref name="list"/> cannot replace the current one, or null: it must be signed with the account key (the edge
    /// verified the signature with that key), name the primary and <paramref name="added"/>, and carry a higher version.
    /// </summary>
    private (string, string)? ListRefusal(SignedDeviceList list, byte[]? added)
    {
        if (AccountKey() is not { } accountKey)
            return (UserRejections.KeysNotPublished, "the primary device has published no identity key to sign with");
        if (!accountKey.AsSpan().SequenceEqual(list.AccountKey))
            return (UserRejections.InvalidKey, "the device list is not signed with the primary device's published identity key");
        if (list.Keys.Count is 0 or > MaxDevices || list.Keys.Any(k => k?.Length != KeyLength))
            return (UserRejections.InvalidKey, $"a device list holds 1 to {MaxDevices} identity keys of {KeyLength} bytes");
        if (list.Keys.Select(Convert.ToBase64String).Distinct().Count() != list.Keys.Count)
            return (UserRejections.InvalidKey, "a device list names each identity key once");
        if (!Lists(list, accountKey)) return (UserRejections.InvalidField, "the device list must name the primary device's identity key");
        if (added is not null && !Lists(list, added)) return (UserRejections.InvalidField, "the device list must name the identity key being endorsed");
        if (list.Version < 1) return (UserRejections.InvalidField, "'version' starts at 1");
        if (CurrentDeviceList() is { } current && list.Version <= current.Version)
            return (UserRejections.StaleDeviceList, $"the account's device list is at version {current.Version}; sign a higher one");
        return null;
    }

    /// <summary>The list an approval brings: needed when the account has one and the new device is endorsed (it would be refused).</summary>
    private (string, string)? ApprovalListRefusal(ApproveLink a)
    {
        if (a.DeviceList is null)
            return a.Endorsement is not null && CurrentDeviceList() is not null
                ? (UserRejections.MissingField, "'deviceList' is required: this account's devices are a signed list, and the new key must be in it")
                : null;
        if (a.Endorsement is null) return (UserRejections.InvalidField, "a device list comes with an endorsement of the new device's key");
        return ListRefusal(a.DeviceList, a.Endorsement.IdentityKey);
    }
}
