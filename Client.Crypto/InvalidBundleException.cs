namespace Natter.Client.Crypto;

/// <summary>A prekey bundle whose signatures or keys do not check out: the initiator refuses to use it.</summary>
public sealed class InvalidBundleException(string message) : Exception(message);
