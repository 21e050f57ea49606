namespace Natter.Client.Crypto;

/// <summary>One device of one user: sessions are per device.</summary>
public sealed record DeviceAddress(string UserId, string DeviceId)
{
    public override string ToString() => $"{UserId}/{DeviceId}";
}
