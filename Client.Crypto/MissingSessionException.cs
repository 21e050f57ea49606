namespace Natter.Client.Crypto;

/// <summary>Devices to seal for that have no session and for which no bundle was given: fetch their bundles and seal again.</summary>
public sealed class MissingSessionException(IReadOnlyList<DeviceAddress> devices)
    : Exception($"No session with {string.Join(", ", devices)}; a prekey bundle is needed.")
{
    public IReadOnlyList<DeviceAddress> Devices { get; } = devices;
}
