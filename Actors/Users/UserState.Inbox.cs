using Natter.Messages;
using Natter.Messages.Users;
using static Natter.Messages.Users.UserCommands;
using static Natter.Messages.Users.UserEvents;

namespace Natter.Actors.Users;

/// <summary>
/// Device-to-device messages within an account: small ciphertexts (a history transfer's key and blob id)
/// held per recipient device until it acknowledges them. The server cannot read them.
/// </summary>
public sealed partial record UserState
{
    public const int MaxDeviceMessageBytes = 64 * 1024;
    public const int MaxInboxMessages = 100;

    public IReadOnlyList<DeviceMessage> InboxOf(DeviceId device) => (Inbox ?? []).Where(m => m.To == device).ToList();

    private (IReadOnlyList<IUserEvent>, (string, string)?) DecideDeviceMessage(SendDeviceMessage m)
    {
        if (Devices.All(d => d.Id != m.To)) return ([], (UserRejections.UnknownDevice, $"no device {m.To}"));
        if (m.To == m.From) return ([], (UserRejections.InvalidField, "a device does not send to itself"));
        if (m.Data is not { Length: > 0 and <= MaxDeviceMessageBytes })
            return ([], (UserRejections.InvalidField, $"'data' is 1 to {MaxDeviceMessageBytes} bytes"));
        if (InboxOf(m.To).Count >= MaxInboxMessages)
            return ([], (UserRejections.InboxFull, $"device {m.To} has {MaxInboxMessages} messages it has not acknowledged"));
        return ([new DeviceMessageQueued(Id, new DeviceMessage(LastDeviceMessageId + 1, m.From, m.To, m.Data, m.At))], null);
    }
}
