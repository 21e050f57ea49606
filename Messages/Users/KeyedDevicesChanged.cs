namespace Natter.Messages.Users;

/// <summary>
/// Published on the cluster's pub-sub <see cref="Topic"/> by a user's entity once the devices it hands out for sealed
/// sends (the set of device and identity key that <c>GetKeyedDevices</c> answers) changed and the change is durable:
/// edges drop what they cached of that user's devices.
/// </summary>
public sealed record KeyedDevicesChanged(UserId UserId) : INatterMessage
{
    public const string Topic = "natter.keyed-devices";
}
