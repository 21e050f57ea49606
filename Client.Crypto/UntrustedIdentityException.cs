namespace Natter.Client.Crypto;

/// <summary>
/// A prekey message whose identity keys do not match a verified <see cref="DeviceIdentity"/> of the sender device:
/// fetch the sender's identity from the key directory (its signature is checked here) and open again.
/// </summary>
public sealed class UntrustedIdentityException(DeviceAddress? device, string message) : Exception(message)
{
    public DeviceAddress? Device { get; } = device;
}
