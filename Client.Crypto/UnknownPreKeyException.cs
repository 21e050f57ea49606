namespace Natter.Client.Crypto;

/// <summary>A prekey message names a signed or one-time prekey this device no longer has (a one-time prekey is used once).</summary>
public sealed class UnknownPreKeyException(string message) : InvalidMessageException(message);
